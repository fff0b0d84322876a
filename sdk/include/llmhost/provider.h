/*
 * llmhost provider ABI, version 1.3 (LLMH_ABI_VERSION_MAJOR / _MINOR below).
 *
 * This header is the whole contract between the llmhost host and a provider plugin. A plugin is
 * a shared library that exports one symbol, `llmh_provider_entry`, returning a static
 * `llmh_provider` descriptor. Plain C99; usable from C++ and anything with a C FFI.
 *
 * Rules that hold everywhere below:
 * - Every struct that crosses the boundary starts with `uint32_t struct_size`, set by whoever
 *   fills the struct to `sizeof` the struct as that side compiled it. A reader must check
 *   `struct_size` before touching any field added after version 1.0 (LLMH_HAS_FIELD).
 *   Structs passed as arrays (llmh_message, llmh_tool_call, llmh_tool_call_delta, llmh_str)
 *   are indexed with the reader's sizeof, so they are frozen for a major version: they never
 *   grow; new per-element data comes in a parallel array added to the containing struct.
 * - Strings cross as `llmh_str` views (pointer + length, not NUL-terminated unless said).
 *   A view is valid only for the duration of the call that handed it over; copy what you keep.
 *   Neither side ever frees memory the other side allocated.
 * - Nothing throws across the boundary. Every function pointer here must return normally;
 *   a C++ plugin catches everything at its edge (provider.hpp does that for you).
 * - Status codes are HTTP-style: 400 bad request, 401 auth, 404 unknown model, 408 timeout,
 *   429 rate limit, 500 plugin failure, 501 not implemented, 502/503/504 upstream trouble.
 *   A plugin reports 400-599; anything else becomes 500. The host itself reports 499 for a
 *   call the caller cancelled and 408 for one that outlived llmh_request.timeout_s.
 *
 * How the declarations here (and in async.h, http.h, tokens.h) are annotated, after CLAP's
 * thread tags and Envoy's ownership paragraphs; tests/sdk/abi_comments.sh checks that every
 * function pointer has a tag and every struct an OWNERSHIP line:
 * - Every function pointer starts its comment with a thread tag:
 *     [thread: any]        any thread, concurrently with any other call;
 *     [thread: call]       only the thread running the plugin call that was handed the object,
 *                          and only until that call returns;
 *     [thread: one at a time]  any thread, but never two at once (an asynchronous call's builder
 *                          or sink, until the call is finished);
 *     [thread: lifecycle]  create and destroy: one at a time per loaded library, never while a
 *                          call on that instance runs;
 *     [thread: http loop]  the host's HTTP event loop (http.h): must never block.
 * - Every struct says OWNERSHIP: who fills it, who owns it, and until when it is valid.
 * - [since 1.N] marks what minor version N appended; without a mark it is 1.0. An extension
 *   table carries its own id ("llmhost.http.v1"): it grows by appending, like the structs here,
 *   and a change that is not an append takes a new id (".v2"), independently of this header.
 */
#ifndef LLMHOST_PROVIDER_H
#define LLMHOST_PROVIDER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. A host refuses a plugin whose major differs from its
 * own; a newer minor only ever appends fields and functions at the end of structs. */
#define LLMH_ABI_VERSION_MAJOR 1
#define LLMH_ABI_VERSION_MINOR 3

/* The one symbol a plugin exports, as a string for dlsym-style lookups. */
#define LLMH_ENTRY_SYMBOL "llmh_provider_entry"

/* Marks the entry symbol for export even when the plugin builds with -fvisibility=hidden. */
#if defined(_WIN32)
#define LLMH_EXPORT __declspec(dllexport)
#else
#define LLMH_EXPORT __attribute__((visibility("default")))
#endif

/* True when a struct of the given (reader-side) type, as filled by the other side, is big
 * enough to contain `field`. Use it before reading any field added after ABI 1.0. */
#define LLMH_HAS_FIELD(ptr, type, field) ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* Defines `static inline type type##_init(void)`: a `type` with every field zero (empty views,
 * NULL pointers, 0) and struct_size set to this header's sizeof, the one correct start for a
 * struct the plugin fills (`llmh_chunk c = llmh_chunk_init();`). Header-only helpers, not part
 * of the ABI: any thread. */
#define LLMH_DEFINE_INIT(type)                  \
  static inline type type##_init(void) {        \
    type value;                                 \
    memset(&value, 0, sizeof value);            \
    value.struct_size = (uint32_t)sizeof value; \
    return value;                               \
  }

/* ------------------------------------------------------------------------------------------ */
/* Basic types                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* A borrowed string view. OWNERSHIP: owned by whoever handed it over; valid for the current
 * call only. */
typedef struct llmh_str {
  const char *ptr; /* first byte; may be NULL when len is 0 */
  size_t len;      /* length in bytes, not counting any terminator */
} llmh_str;

/* Makes a view of a NUL-terminated C string (NULL gives the empty view). Any thread. */
static inline llmh_str llmh_str_c(const char *s) {
  llmh_str v;
  v.ptr = s;
  v.len = s ? strlen(s) : 0;
  return v;
}

/* Log levels for llmh_host_api.log. */
typedef enum llmh_log_level {
  LLMH_LOG_DEBUG = 0, /* noisy detail, off by default */
  LLMH_LOG_INFO = 1,  /* normal operation */
  LLMH_LOG_WARN = 2,  /* something odd that the plugin recovered from */
  LLMH_LOG_ERROR = 3  /* something failed */
} llmh_log_level;

/* Capability flags in llmh_provider.capabilities: what the plugin implements. The host answers
 * a call for a missing capability with status 501 and never calls a NULL function pointer. */
#define LLMH_CAP_COMPLETE ((uint64_t)1 << 0) /* `complete` is implemented */
#define LLMH_CAP_STREAM ((uint64_t)1 << 1)   /* `stream` is implemented */
#define LLMH_CAP_EMBED ((uint64_t)1 << 2)    /* `embed` is implemented */
/* (1.3) The plugin reads llmh_request.body_members: the host lists them only for plugins that
 * set this, so the others pay nothing for them. An older host ignores the bit. */
#define LLMH_CAP_BODY_MEMBERS ((uint64_t)1 << 3)

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Longest error message the host keeps, including the terminating NUL. */
#define LLMH_ERROR_MESSAGE_MAX 1024

/* The error of one call. OWNERSHIP: owned by the host, handed to the plugin zeroed (status 0,
 * empty message); filled by the plugin, which returns non-zero from the call. Only the thread
 * running the call may write it, and only until the call returns. */
typedef struct llmh_error {
  uint32_t struct_size;                 /* sizeof(llmh_error) as the host compiled it */
  int32_t status;                       /* HTTP-style status; 0 from the plugin means 500 */
  char message[LLMH_ERROR_MESSAGE_MAX]; /* NUL-terminated, human readable; never a secret */
} llmh_error;
LLMH_DEFINE_INIT(llmh_error) /* llmh_error_init() */

/* Fills `err` with a status and a message (truncated to fit) and returns 1, so that a plugin
 * can write `return llmh_error_set(err, 400, "bad input");`. Any thread that owns `err`. */
static inline int llmh_error_set(llmh_error *err, int32_t status, const char *message) {
  size_t n = message ? strlen(message) : 0;
  if (n >= LLMH_ERROR_MESSAGE_MAX) n = LLMH_ERROR_MESSAGE_MAX - 1;
  err->status = status;
  if (n) memcpy(err->message, message, n);
  err->message[n] = '\0';
  return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Requests                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* One tool call of an assistant message (in a request) or of a response. OWNERSHIP: filled by
 * the host (a request's) or the plugin (an answer's); all views, valid as long as what holds
 * it. */
typedef struct llmh_tool_call {
  uint32_t struct_size; /* sizeof(llmh_tool_call) as the filler compiled it */
  llmh_str id;          /* the tool call id, e.g. "call_abc" */
  llmh_str type;        /* "function" */
  llmh_str name;        /* the function name */
  llmh_str arguments;   /* the function arguments, a JSON text as the model produced it */
} llmh_tool_call;
LLMH_DEFINE_INIT(llmh_tool_call) /* llmh_tool_call_init() */

/* One chat message of a request. OWNERSHIP: filled and owned by the host; valid until the call
 * returns (an asynchronous call: until it is finished). */
typedef struct llmh_message {
  uint32_t struct_size;             /* sizeof(llmh_message) as the host compiled it */
  llmh_str role;                    /* "system", "user", "assistant", "tool", ... */
  llmh_str content;                 /* the text; for array content, its text parts joined */
  llmh_str name;                    /* optional participant name; empty when absent */
  llmh_str tool_call_id;            /* for role "tool": the call answered; else empty */
  const llmh_tool_call *tool_calls; /* for role "assistant": the calls it made; may be NULL */
  size_t tool_call_count;           /* number of entries in tool_calls */
} llmh_message;

/* Presence bits for llmh_params.present: a parameter is set only when its bit is. */
#define LLMH_PARAM_TEMPERATURE ((uint64_t)1 << 0)       /* temperature */
#define LLMH_PARAM_TOP_P ((uint64_t)1 << 1)             /* top_p */
#define LLMH_PARAM_MAX_TOKENS ((uint64_t)1 << 2)        /* max_tokens / max_completion_tokens */
#define LLMH_PARAM_N ((uint64_t)1 << 3)                 /* n */
#define LLMH_PARAM_SEED ((uint64_t)1 << 4)              /* seed */
#define LLMH_PARAM_PRESENCE_PENALTY ((uint64_t)1 << 5)  /* presence_penalty */
#define LLMH_PARAM_FREQUENCY_PENALTY ((uint64_t)1 << 6) /* frequency_penalty */
#define LLMH_PARAM_STOP ((uint64_t)1 << 7)              /* stop */
#define LLMH_PARAM_USER ((uint64_t)1 << 8)              /* user */

/* The common sampling parameters, decoded by the host. OWNERSHIP: filled and owned by the host;
 * valid until the call returns (or is finished). Everything else the caller sent is in
 * llmh_request.body_json. */
typedef struct llmh_params {
  uint32_t struct_size;     /* sizeof(llmh_params) as the host compiled it */
  uint64_t present;         /* LLMH_PARAM_* bits of the fields below that the caller set */
  double temperature;       /* valid when LLMH_PARAM_TEMPERATURE */
  double top_p;             /* valid when LLMH_PARAM_TOP_P */
  double presence_penalty;  /* valid when LLMH_PARAM_PRESENCE_PENALTY */
  double frequency_penalty; /* valid when LLMH_PARAM_FREQUENCY_PENALTY */
  int64_t max_tokens;       /* valid when LLMH_PARAM_MAX_TOKENS */
  int64_t n;                /* valid when LLMH_PARAM_N */
  int64_t seed;             /* valid when LLMH_PARAM_SEED */
  const llmh_str *stop;     /* valid when LLMH_PARAM_STOP; stop_count sequences */
  size_t stop_count;        /* number of entries in stop */
  llmh_str user;            /* valid when LLMH_PARAM_USER */
} llmh_params;

/* [since 1.3] One member of a JSON object as its text. OWNERSHIP: filled by the host; views
 * into the object's text, valid as long as it. Passed in arrays, so frozen for major version 1. */
typedef struct llmh_json_member {
  llmh_str key;   /* the key as written, quotes and escapes included: "\"model\"" */
  llmh_str value; /* the value's JSON text as written, without the whitespace around it */
} llmh_json_member;

/* One call: a chat completion (complete, stream) or an embedding (embed). OWNERSHIP: filled and
 * owned by the host; every pointer and view in it is valid until the call returns (an
 * asynchronous call: until it is finished). */
typedef struct llmh_request {
  uint32_t struct_size;         /* sizeof(llmh_request) as the host compiled it */
  llmh_str model;               /* the model with the "provider/" prefix stripped */
  const llmh_message *messages; /* chat messages in order; NULL/0 for embed */
  size_t message_count;         /* number of entries in messages */
  const llmh_params *params;    /* decoded common parameters; never NULL */
  const llmh_str *inputs;       /* embed only: the texts to embed; NULL/0 for chat calls */
  size_t input_count;           /* number of entries in inputs */
  llmh_str api_key;             /* from config or the caller; empty when none. A secret:
                                   never log it or put it in an error message */
  llmh_str api_base;            /* base URL from config or the caller; empty when none */
  double timeout_s;             /* total time allowed for the call in seconds; 0 = none set.
                                   The host's cancelled() turns true at this deadline */
  uint32_t num_retries;         /* retries the caller allows on transient upstream errors */
  llmh_str body_json;           /* the full original request body, a JSON object, with
                                   every key the caller sent (tools, response_format, extra
                                   keys, config params merged in); "{}" when none */
  /* [since 1.3] Read only when LLMH_HAS_FIELD(req, llmh_request, body_member_count). The
   * top-level members of body_json in order, as views into it, when the host has already
   * checked that body_json is a valid JSON object (its request parser did, or the host wrote
   * the body; not NULL then, even for an empty object); else NULL and 0, and a plugin that
   * needs the members parses body_json itself.
   * Lets a plugin rewrite the body for its upstream without parsing it a second time. */
  const llmh_json_member *body_members;
  size_t body_member_count;
} llmh_request;

/* ------------------------------------------------------------------------------------------ */
/* Results                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* Token counts of one call. OWNERSHIP: filled by the plugin; the host copies it. */
typedef struct llmh_usage {
  uint32_t struct_size;      /* sizeof(llmh_usage) as the filler compiled it */
  int64_t prompt_tokens;     /* tokens in the input */
  int64_t completion_tokens; /* tokens generated (0 for embeddings) */
  int64_t total_tokens;      /* usually prompt + completion */
} llmh_usage;
LLMH_DEFINE_INIT(llmh_usage) /* llmh_usage_init() */

/* [since 1.3] Members of an upstream answer that llmhost does not model, for the front ends to pass through
 * as they are (system_fingerprint, service_tier, logprobs, refusal, annotations, ...). Each
 * field is the text of a JSON object whose members the host appends, verbatim, to the object
 * it writes at that level; empty for none. The host checks that each is a JSON object and fails
 * the call (500) when one is not; it does not look inside, so leave out the keys it writes
 * itself at that level (docs/abi.md lists them). OWNERSHIP: filled by the plugin; views, valid
 * until the function they are handed to returns. Replaces what front ends used to read out of
 * raw_json, so that the host never parses the upstream's answer a second time. */
typedef struct llmh_upstream_members {
  uint32_t struct_size; /* sizeof(llmh_upstream_members) as the plugin compiled it */
  llmh_str top;         /* of the chat.completion / chat.completion.chunk object */
  llmh_str choice;      /* of choices[0] */
  llmh_str message;     /* of choices[0].message (complete) or choices[0].delta (stream) */
} llmh_upstream_members;
LLMH_DEFINE_INIT(llmh_upstream_members) /* llmh_upstream_members_init() */

/* Where `complete` writes its answer. OWNERSHIP: filled and owned by the host; every function
 * copies what it is given, so views need only live until the function returns. Valid until
 * `complete` returns (complete_async: until done->finish). `self` is the builder itself. The
 * functions are [thread: call] for `complete` and [thread: one at a time] for complete_async. */
typedef struct llmh_response_builder {
  uint32_t struct_size; /* sizeof(llmh_response_builder) as the host compiled it */
  void *host_data;      /* host-private; do not touch */
  /* [thread: call] Appends text to the assistant message's content. */
  void (*append_content)(const struct llmh_response_builder *self, llmh_str text);
  /* [thread: call] Appends text to the reasoning content (models that expose their reasoning). */
  void (*append_reasoning)(const struct llmh_response_builder *self, llmh_str text);
  /* [thread: call] Adds one tool call to the assistant message, in order. */
  void (*add_tool_call)(const struct llmh_response_builder *self, const llmh_tool_call *call);
  /* [thread: call] Sets finish_reason: "stop", "length", "tool_calls", "content_filter". Default "stop". */
  void (*set_finish_reason)(const struct llmh_response_builder *self, llmh_str reason);
  /* [thread: call] Sets the token usage; without it the host reports zeros. */
  void (*set_usage)(const struct llmh_response_builder *self, const llmh_usage *usage);
  /* [thread: call] Sets the model name reported to the caller (default: the requested model). */
  void (*set_model)(const struct llmh_response_builder *self, llmh_str model);
  /* [thread: call] Hands over the upstream's response JSON as is, for embedders that want it.
   * Optional. Front ends pass through what set_upstream_members (1.3) gives; from a plugin
   * that gives only raw_json, they still pick the unmodelled members out of it, at the cost of
   * parsing it again. */
  void (*set_raw_json)(const struct llmh_response_builder *self, llmh_str json);
  /* [thread: call] Returns non-zero once the caller has given up (cancel, client gone,
   * deadline): the plugin should stop work and return promptly; what it returns is then
   * discarded. */
  int (*cancelled)(const struct llmh_response_builder *self);
  /* [thread: call] [since 1.3] Call only when LLMH_HAS_FIELD(self, llmh_response_builder,
   * set_upstream_members). Sets the members to pass through; the last call wins. */
  void (*set_upstream_members)(const struct llmh_response_builder *self, const llmh_upstream_members *members);
} llmh_response_builder;

/* A tool-call fragment inside a stream chunk. `index` ties fragments of one call together;
 * id and name usually arrive in the first fragment, arguments in pieces. OWNERSHIP: filled by
 * the plugin; all views, valid until the `emit` that carries it returns. */
typedef struct llmh_tool_call_delta {
  uint32_t struct_size; /* sizeof(llmh_tool_call_delta) as the filler compiled it */
  uint32_t index;       /* which tool call of the message this fragment belongs to */
  llmh_str id;          /* the call id; empty when not in this fragment */
  llmh_str name;        /* the function name; empty when not in this fragment */
  llmh_str arguments;   /* the next piece of the arguments JSON text; may be empty */
} llmh_tool_call_delta;
LLMH_DEFINE_INIT(llmh_tool_call_delta) /* llmh_tool_call_delta_init() */

/* One streamed chunk. OWNERSHIP: filled by the plugin; every view only needs to live until
 * `emit` returns (the host copies what it keeps). Leave a field empty/NULL when it has
 * nothing. */
typedef struct llmh_chunk {
  uint32_t struct_size;                   /* sizeof(llmh_chunk) as the plugin compiled it */
  llmh_str content;                       /* text delta */
  llmh_str reasoning;                     /* reasoning-text delta */
  const llmh_tool_call_delta *tool_calls; /* tool-call fragments; may be NULL */
  size_t tool_call_count;                 /* number of entries in tool_calls */
  llmh_str finish_reason;                 /* set on the last content chunk; else empty */
  const llmh_usage *usage;                /* token usage, usually on the final chunk; or NULL */
  llmh_str raw_json;                      /* the upstream's chunk JSON as is; optional. For
                                             pass-through, prefer upstream_members */
  /* [since 1.3] What to pass through, or NULL (the host reads it when struct_size covers it;
   * a host older than 1.3 ignores it). */
  const llmh_upstream_members *upstream_members;
} llmh_chunk;
LLMH_DEFINE_INIT(llmh_chunk) /* llmh_chunk_init() */

/* Where `stream` sends its chunks. OWNERSHIP: filled and owned by the host; valid until
 * `stream` returns (stream_async, llmhost/async.h: until done->finish). The functions are
 * [thread: call] for `stream` and [thread: one at a time] for stream_async. */
typedef struct llmh_stream_sink {
  uint32_t struct_size; /* sizeof(llmh_stream_sink) as the host compiled it */
  void *host_data;      /* host-private; do not touch */
  /* [thread: call] Delivers one chunk. Returns 0 to go on; non-zero when the consumer has gone away or
   * cancelled: the plugin must stop promptly and return (its return value is then ignored). */
  int (*emit)(const struct llmh_stream_sink *self, const llmh_chunk *chunk);
  /* [thread: call] Non-zero once the consumer has cancelled, for plugins that wait between
   * chunks. */
  int (*cancelled)(const struct llmh_stream_sink *self);
} llmh_stream_sink;

/* Where `embed` writes its vectors. OWNERSHIP: filled and owned by the host; functions copy
 * what they are given. Valid until `embed` returns. */
typedef struct llmh_embedding_builder {
  uint32_t struct_size; /* sizeof(llmh_embedding_builder) as the host compiled it */
  void *host_data;      /* host-private; do not touch */
  /* [thread: call] Sets the vector for input number `index` (0-based, < input_count). */
  void (*set_embedding)(const struct llmh_embedding_builder *self, size_t index, const float *values,
                        size_t dimensions);
  /* [thread: call] Sets the token usage (completion_tokens is ignored). */
  void (*set_usage)(const struct llmh_embedding_builder *self, const llmh_usage *usage);
  /* [thread: call] Sets the model name reported to the caller (default: the requested model). */
  void (*set_model)(const struct llmh_embedding_builder *self, llmh_str model);
  /* [thread: call] Non-zero once the caller has given up; stop and return promptly. */
  int (*cancelled)(const struct llmh_embedding_builder *self);
} llmh_embedding_builder;

/* ------------------------------------------------------------------------------------------ */
/* Host services                                                                               */
/* ------------------------------------------------------------------------------------------ */

/* Services the host offers to a plugin, handed to `create`. OWNERSHIP: filled and owned by the
 * host; valid until `destroy` of the instance returns, and a plugin may keep the pointer for
 * that long. */
typedef struct llmh_host_api {
  uint32_t struct_size; /* sizeof(llmh_host_api) as the host compiled it */
  uint32_t abi_major;   /* LLMH_ABI_VERSION_MAJOR of the host */
  uint32_t abi_minor;   /* LLMH_ABI_VERSION_MINOR of the host */
  void *host_data;      /* host-private; do not touch */
  /* [thread: any] Writes one log line attributed to the plugin. The host copies the message. Never pass a
   * secret (API key, Authorization header) here. */
  void (*log)(const struct llmh_host_api *self, llmh_log_level level, llmh_str message);
  /* [thread: any] Returns the host's extension table for `id` (a NUL-terminated id such as
   * "llmhost.http.v1"), or NULL when this host does not offer it. The table is owned by the
   * host and lives as long as this llmh_host_api. */
  const void *(*get_extension)(const struct llmh_host_api *self, const char *id);
} llmh_host_api;

/* ------------------------------------------------------------------------------------------ */
/* The provider descriptor                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* Per-instance configuration handed to `create`. OWNERSHIP: filled and owned by the host; valid
 * until `create` returns (copy what the instance keeps). */
typedef struct llmh_config {
  uint32_t struct_size; /* sizeof(llmh_config) as the host compiled it */
  llmh_str json;        /* a JSON object of provider settings from the host's config (every
                           extra key included); "{}" when none. May hold secrets. */
} llmh_config;

/* What a plugin is and does. OWNERSHIP: filled and owned by the plugin, returned by the entry
 * symbol; static, and never changed while the library is loaded. Function pointers marked "may be NULL" are
 * optional; the matching capability bit must then be clear.
 *
 * Threads: the host calls `create` and `destroy` of one loaded library from one thread at a
 * time, never while a call on that instance is running. (A hot reload loads the new build as
 * a separate copy with its own globals; its `create` may overlap the old copy's calls.) `complete`, `stream` and
 * `embed` may be called concurrently from many threads on one instance: a plugin must be thread-safe for them. */
typedef struct llmh_provider {
  uint32_t struct_size;      /* sizeof(llmh_provider) as the plugin compiled it */
  uint32_t abi_major;        /* LLMH_ABI_VERSION_MAJOR the plugin was built with */
  uint32_t abi_minor;        /* LLMH_ABI_VERSION_MINOR the plugin was built with */
  const char *name;          /* provider name, NUL-terminated, static: [a-z0-9_.-]+,
                                at most 64 bytes; the part before "/" in model names */
  const char *version;       /* plugin version, NUL-terminated, static; e.g. "1.2.0" */
  const char *description;   /* one line, NUL-terminated, static; may be NULL */
  uint64_t capabilities;     /* LLMH_CAP_* bits */
  const char *const *models; /* NULL-terminated list of known models; may be NULL */

  /* [thread: lifecycle] Creates an instance. Stores an opaque pointer in *instance (NULL is allowed) and returns
   * 0, or fills `err` and returns non-zero. `host` stays valid until `destroy` returns. */
  int (*create)(const llmh_host_api *host, const llmh_config *config, void **instance, llmh_error *err);
  /* [thread: lifecycle] Destroys an instance. Must stop and join every thread the plugin started for it, and
   * release everything it holds: the library is unloaded right after. May be NULL. */
  void (*destroy)(void *instance);
  /* [thread: any] Answers a chat completion into `out`. Returns 0, or fills `err` and returns
   * non-zero. Called concurrently. May be NULL when LLMH_CAP_COMPLETE is clear. */
  int (*complete)(void *instance, const llmh_request *request, const llmh_response_builder *out, llmh_error *err);
  /* [thread: any] Streams a chat completion as chunks into `sink`, returning once the last
   * chunk is sent (0), or on failure (fills `err`, non-zero). An error after chunks were sent
   * ends the stream with that error. Called concurrently. May be NULL without LLMH_CAP_STREAM. */
  int (*stream)(void *instance, const llmh_request *request, const llmh_stream_sink *sink, llmh_error *err);
  /* [thread: any] Embeds request->inputs into `out`, one vector per input. Returns 0, or fills
   * `err` and returns non-zero. Called concurrently. May be NULL without LLMH_CAP_EMBED. */
  int (*embed)(void *instance, const llmh_request *request, const llmh_embedding_builder *out, llmh_error *err);
  /* [thread: any] Returns the plugin's extension table for `id`, or NULL. For features added
   * after 1.0 without a new major version. May be NULL. */
  const void *(*get_extension)(void *instance, const char *id);
} llmh_provider;

/* [thread: any] The entry point every plugin exports (as C, un-mangled): returns the static
 * descriptor. It must do no work, allocate nothing, and may be called any number of times. */
typedef const llmh_provider *(*llmh_provider_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* LLMHOST_PROVIDER_H */
