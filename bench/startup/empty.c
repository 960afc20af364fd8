/* empty: a program that does nothing; its run time is the start-up cost of
 * a C program (exec, dynamic linking, libc start-up). */
int main(void)
{
    return 0;
}
