/* The C interface between pipejournal and its JSON reader, pipejournal-json.so: simdjson and the
 * shared libstdc++ it needs are loaded only when the first line that may be JSON comes (dlopen, as
 * systemd loads its optional libraries). Plain C on purpose: the daemon links its own libstdc++,
 * the module uses the shared one, so no C++ type and no exception crosses this line. */
#ifndef PIPEJOURNAL_JSON_MODULE_H
#define PIPEJOURNAL_JSON_MODULE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raised whenever a struct below changes; the daemon refuses a module of another version. */
#define PJ_JSON_MODULE_ABI 1
#define PJ_JSON_MODULE_FILE "pipejournal-json.so"
#define PJ_JSON_MODULE_SYMBOL "pipejournal_json_module"

/* Where the walk of one line goes: the daemon's field builder. Every callback returns nonzero to
 * go on, 0 to stop the walk (too many fields, or the daemon failed and remembers why). Strings
 * stay valid until the next read of the same parser. */
struct pj_json_sink {
    void* context;
    int max_depth; /* the top-level object is depth 1, an array counts as a level */
    int (*enter)(void* context, const char* key, size_t size); /* a member of the current object */
    int (*leave)(void* context);                               /* its value is done */
    int (*add_string)(void* context, const char* decoded, size_t size);
    int (*add_literal)(void* context, const char* text, size_t size); /* number, true, false */
    int (*add_null)(void* context);
    int (*add_container)(void* context); /* an object or array: its members/elements follow */
    /* One element of the array that is the current key's value (objects and arrays in it as
     * compact JSON text, copied by the daemon). */
    int (*add_element)(void* context, const char* text, size_t size);
};

enum pj_json_result {
    PJ_JSON_MAPPED = 0, /* the sink has every field */
    PJ_JSON_INVALID,    /* not valid JSON, or not an object */
    PJ_JSON_INVALID_UTF8,
    PJ_JSON_TRAILING_TEXT, /* something other than blanks after the object */
    PJ_JSON_TOO_DEEP,      /* valid JSON, nested deeper than max_depth */
    PJ_JSON_STOPPED,       /* valid JSON; the sink stopped the walk */
    PJ_JSON_OUT_OF_MEMORY,
};

struct pj_json_parser; /* one per reader; keeps its buffers from line to line */

struct pj_json_module {
    unsigned abi; /* PJ_JSON_MODULE_ABI */
    const char* simdjson_version;
    struct pj_json_parser* (*parser_new)(void); /* NULL: out of memory */
    void (*parser_free)(struct pj_json_parser* parser);
    /* Reads text[0..size) as one JSON object, walking every value into the sink. */
    enum pj_json_result (*read)(struct pj_json_parser* parser, const char* text, size_t size,
                                const struct pj_json_sink* sink);
    /* Gives back what lines longer than keep_bytes made the parser hold; nonzero if it held
     * some. */
    int (*trim)(struct pj_json_parser* parser, size_t keep_bytes);
};

/* The one symbol the module exports. */
const struct pj_json_module* pipejournal_json_module(void);

#ifdef __cplusplus
}
#endif

#endif
