print("start")
os.exit(3)
print("never")
