#!/usr/bin/env python3
"""fuzz.py -- fuzz the reference Scheme interpreter's reader and compiler
(and, with what survives them, its run time).

Three sources of inputs, in turn:
  mutate   a script from testdata/lisp/tests/ with random edits (delete,
           duplicate or swap a slice, insert a token such as ( ) " #| ,@ #\\)
  generate a random program from the forms and builtins the interpreter has
  splice   top-level forms of several scripts, shuffled (programs that mostly
           run, so the run time is fuzzed too)

Each input runs as `lisp FILE` with a time limit.  A failure is: death by a
signal, an exit status other than 0, 1, 2 or one the program asked for, or
an error that is not exactly one line on stderr.  Failing inputs are kept in
the output directory.  Time-outs (an input may loop forever) are counted,
not failures; the first 50 are kept as timeout-*.scm: one that still times
out with (exit 0) put in front of it is stuck before running (reader or
compiler), which is a failure to report.

  fuzz.py [--lisp build/bin/lisp] [--seconds 300] [--seed N] [--out DIR]
"""
import argparse, glob, os, random, re, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENS = ['(', ')', '[', ']', '"', "'", '`', ',', ',@', '.', '#(', '#|', '|#', '#;', '#\\',
          '#\\space', '#t', '#f', '1', '-1', '0.5', '1e400', '4611686018427387904', 'x',
          'lambda', 'define', 'let', 'let*', 'letrec', 'do', 'if', 'cond', 'case', 'else',
          '=>', 'and', 'or', 'when', 'unless', 'begin', 'set!', 'quote', 'quasiquote',
          'unquote', '...', ';', '\n', ' ', '\\', '#x', '#b2', '()', '(())', '\0', '\x7f',
          '#u8(', '99999999999999999999999', 'guard', 'case-lambda', 'define-syntax',
          'syntax-rules', 'define-record-type', 'let-values', '_']
FORMS = ['+', '-', '*', '/', 'quotient', 'remainder', 'modulo', '=', '<', '>', '<=', '>=',
         'zero?', 'abs', 'min', 'max', 'sqrt', 'floor', 'round', 'exact->inexact',
         'inexact->exact', 'number->string', 'string->number', 'cons', 'car', 'cdr', 'cadr',
         'list', 'length', 'append', 'reverse', 'list-tail', 'list-ref', 'memq', 'member',
         'assq', 'assoc', 'map', 'for-each', 'apply', 'null?', 'pair?', 'list?', 'vector',
         'make-vector', 'vector-ref', 'vector-set!', 'vector-length', 'vector->list',
         'list->vector', 'vector-fill!', 'make-string', 'string', 'string-length',
         'string-ref', 'string-set!', 'substring', 'string-append', 'string->list',
         'list->string', 'string->symbol', 'symbol->string', 'string=?', 'string<?',
         'char->integer', 'integer->char', 'char=?', 'char<?', 'eq?', 'eqv?', 'equal?',
         'not', 'boolean?', 'symbol?', 'string?', 'procedure?', 'vector?', 'display',
         'write', 'set-car!', 'expt', 'even?', 'odd?', 'values', 'call-with-values',
         'call/cc', 'dynamic-wind', 'raise', 'raise-continuable', 'with-exception-handler',
         'error', 'error-object-message', 'read', 'read-char', 'read-line', 'peek-char',
         'open-input-string', 'open-output-string', 'get-output-string', 'exact-integer-sqrt',
         'bytevector', 'make-bytevector', 'bytevector-u8-ref', 'utf8->string', 'string->utf8',
         'char-upcase', 'string-ci=?', 'caddar', 'cdddr', 'square', 'exact', 'inexact',
         'number->string', 'current-jiffy']
VARS = ['a', 'b', 'c', 'f', 'g', 'lst', 'v', 's']


def atom(r):
    return r.choice(['0', '1', '-7', '42', '2.5', '-0.0', '"str"', '""', "'sym", "'()",
                     "'(1 2 3)", '#t', '#f', '#\\a', '#(1 2)', '4611686018427387903',
                     r.choice(VARS)])


def expr(r, d):
    if d <= 0 or r.random() < 0.25:
        return atom(r)
    k = r.randrange(14)
    e = lambda: expr(r, d - 1)
    if k < 5:
        return '(%s %s)' % (r.choice(FORMS), ' '.join(e() for _ in range(r.randrange(4))))
    if k == 5:
        return '(if %s %s %s)' % (e(), e(), e())
    if k == 6:
        return '(let ((%s %s) (%s %s)) %s)' % (r.choice(VARS), e(), r.choice(VARS), e(), e())
    if k == 7:
        return '(lambda (%s . %s) %s)' % (r.choice(VARS), r.choice(VARS), e())
    if k == 8:
        return '(let loop ((i %d) (acc %s)) (if (<= i 0) acc (loop (- i 1) %s)))' % (
            r.randrange(50), e(), e())
    if k == 9:
        return '(cond (%s %s) (%s => %s) (else %s))' % (e(), e(), e(), r.choice(VARS), e())
    if k == 10:
        return '(%s %s)' % (r.choice(['and', 'or', 'begin', 'when #t', 'unless #f']),
                            ' '.join(e() for _ in range(r.randrange(3))))
    if k == 11:
        return '`(%s ,%s ,@%s)' % (atom(r), e(), e())
    if k == 12:
        return '(set! %s %s)' % (r.choice(VARS), e())
    return '(%s %s)' % (r.choice(VARS), ' '.join(e() for _ in range(r.randrange(3))))


def generate(r):
    out = []
    for v in VARS:
        if r.random() < 0.6:
            if r.random() < 0.5:
                out.append('(define (%s x . y) %s)' % (v, expr(r, 4)))
            else:
                out.append('(define %s %s)' % (v, expr(r, 3)))
    for _ in range(r.randrange(1, 8)):
        out.append('(display %s)' % expr(r, 5))
    return '\n'.join(out) + '\n'


def mutate(r, text):
    for _ in range(r.randrange(1, 6)):
        n = len(text)
        i, j = sorted((r.randrange(n + 1), r.randrange(n + 1)))
        j = min(j, i + 40)
        k = r.randrange(5)
        if k == 0:
            text = text[:i] + text[j:]
        elif k == 1:
            text = text[:i] + text[i:j] + text[i:]
        elif k == 2:
            text = text[:i] + r.choice(TOKENS) + text[i:]
        elif k == 3 and n:
            text = text[:i] + chr(r.randrange(0, 256)) + text[i + 1:]
        else:
            m = r.randrange(n + 1)
            text = text[:m] + text[i:j] + text[m:]
    return text


def splice(r, seeds):
    forms = []
    for text in r.sample(seeds, min(len(seeds), r.randrange(1, 5))):
        forms += [f for f in re.split(r'\n(?=\()', text) if f.startswith('(')]
    r.shuffle(forms)
    return '\n'.join(forms[:r.randrange(1, 40)]) + '\n'


def calls_exit(src):
    return re.search(r'[(\[]\s*exit\b', src) is not None


def allowed_exit(src, rc):
    return rc in (0, 1, 2) or calls_exit(src)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lisp', default=os.path.join(HERE, '../../../build/bin/lisp'))
    ap.add_argument('--seconds', type=float, default=300)
    ap.add_argument('--seed', type=int, default=int(time.time()))
    ap.add_argument('--out', default=os.path.join(tempfile.gettempdir(), 'lisp-fuzz'))
    a = ap.parse_args()
    r = random.Random(a.seed)
    paths = sorted(glob.glob(os.path.join(HERE, '../tests/*.scm')))
    seeds = [open(p, encoding='latin-1').read() for p in paths]
    runnable = [open(p, encoding='latin-1').read() for p in paths
                if not os.path.basename(p).startswith('err_')]
    os.makedirs(a.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix='lisp-fuzz-')
    path = os.path.join(work, 'in.scm')
    runs = fails = timeouts = errors = 0
    end = time.time() + a.seconds
    while time.time() < end:
        kind = runs % 3
        src = generate(r) if kind == 1 else splice(r, runnable) if kind == 2 else mutate(r, r.choice(seeds))
        with open(path, 'w', encoding='latin-1') as f:
            f.write(src)
        runs += 1
        try:
            p = subprocess.run([a.lisp, path], capture_output=True, timeout=5)
        except subprocess.TimeoutExpired:
            timeouts += 1
            if timeouts <= 50:      # kept to tell a looping program from a stuck reader
                with open(os.path.join(a.out, 'timeout-%d-%d.scm' % (a.seed, runs)), 'w',
                          encoding='latin-1') as f:
                    f.write(src)
            continue
        err = p.stderr.decode('latin-1')
        bad = None
        if p.returncode < 0:
            bad = 'signal %d' % -p.returncode
        elif not allowed_exit(src, p.returncode):
            bad = 'exit status %d' % p.returncode
        elif p.returncode == 1 and err.count('\n') != 1 and not (err == '' and calls_exit(src)):
            # (exit #f) is status 1 with no message
            bad = 'error message is not one line'
        if p.returncode == 1:
            errors += 1
        if bad:
            fails += 1
            keep = os.path.join(a.out, 'fail-%d-%d.scm' % (a.seed, runs))
            with open(keep, 'w', encoding='latin-1') as f:
                f.write(src)
            print('FAIL (%s): %s\n  %s' % (bad, keep, err.strip()[:200]))
    print('fuzz: seed %d, %d runs, %d failures, %d exited with a Scheme error, %d time-outs'
          % (a.seed, runs, fails, errors, timeouts))
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
