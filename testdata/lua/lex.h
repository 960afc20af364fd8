/* lex.h -- tokens of the Lua lexer (lex.c).  Single-character tokens are
 * their character; the others follow, keywords first in alphabetical
 * order (ORDER TK: lex.c's kw[] and tok_name's table follow it). */
#ifndef LUA_LEX_H
#define LUA_LEX_H

#include <errno.h>

#include "lua.h"

enum {
    TK_AND = 257, TK_BREAK, TK_DO, TK_ELSE, TK_ELSEIF, TK_END, TK_FALSE, TK_FOR, TK_FUNCTION,
    TK_GOTO, TK_IF, TK_IN, TK_LOCAL, TK_NIL, TK_NOT, TK_OR, TK_REPEAT, TK_RETURN, TK_THEN,
    TK_TRUE, TK_UNTIL, TK_WHILE,
    TK_EOS, TK_NUMBER, TK_NAME, TK_STRING, TK_EQ, TK_NE, TK_LE, TK_GE, TK_IDIV, TK_CONCAT,
    TK_DOTS, TK_DBCOLON, TK_SHL, TK_SHR,
};

struct lexer {
    const char *p, *end, *tokstart;
    int line, tokline, tok;
    int ahead, atok;
    char *buf;                  /* the text of a name or string token */
    size_t len, cap;
    value num;                  /* a number token's value */
};

void lex_init(struct lexer *lx, const char *src, size_t len);
void lex_next(struct lexer *lx);
_Noreturn void lex_error(struct lexer *lx, const char *msg);
const char *tok_name(int tok, char *buf, size_t len);

#endif
