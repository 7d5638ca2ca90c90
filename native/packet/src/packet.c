// AF_PACKET sockets for lbc's ARP/NDP speaker: open one on an interface with a
// classic BPF filter, hear the frames it lets through on the event loop, send raw
// Ethernet frames, and join link-layer multicast groups (the solicited-node MACs a
// Neighbor Solicitation for an announced IPv6 address is sent to).
//
// Plain Node-API (no node-addon-api), so the only build dependencies are node's own
// headers, a C compiler, make and python3 for node-gyp. Frames are read on the loop
// thread through uv_poll: no extra thread, and callbacks reach JS in order.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "tcp_md5.h"

#define MAX_FRAME 65536
// Frames handed to JS per readable event; the rest wait for the next loop turn so a
// flood cannot starve timers (heartbeats) on the same loop.
#define MAX_BATCH 64

typedef struct {
  int fd;
  int ifindex;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  uv_poll_t poll;
  // Lifecycle: closed (fd gone, poll handle closing), poll_closed (libuv has let go of
  // the handle), finalized (JS has let go of the external). Freed when both let go.
  int closed;
  int poll_closed;
  int finalized;
  unsigned char buf[MAX_FRAME];
} sock_t;

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, message, error;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_string_utf8(env, "ERR_PACKET_SOCKET", NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, message, &error);
  napi_value errno_value;
  napi_create_int32(env, err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char* msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static void maybe_free(sock_t* s) {
  if (s->poll_closed && s->finalized) free(s);
}

static void on_poll_closed(uv_handle_t* h) {
  sock_t* s = (sock_t*)h->data;
  s->poll_closed = 1;
  maybe_free(s);
}

// Closes the poll handle first, then the fd, both at once. The handle must not outlive
// the fd: closing a poll handle removes its fd number from the loop's epoll set, and if
// that happened later (say, when the GC finalizes the external) the number may by then
// belong to a new socket, which would silently stop receiving frames: a speaker that
// withdrew its last address, announced again and then lost its ARP answers to a GC.
static void sock_close(sock_t* s) {
  if (s->closed) return;
  s->closed = 1;
  uv_close((uv_handle_t*)&s->poll, on_poll_closed);
  close(s->fd);
  s->fd = -1;
  // Safe inside the frame callback: on_readable holds the function in its handle scope.
  if (s->callback) {
    napi_delete_reference(s->env, s->callback);
    s->callback = NULL;
  }
}

static void finalize_sock(napi_env env, void* data, void* hint) {
  (void)hint;
  sock_t* s = (sock_t*)data;
  sock_close(s);
  // Here and not in sock_close: close() may run inside a napi_make_callback that uses
  // this async context.
  if (s->async) {
    napi_async_destroy(env, s->async);
    s->async = NULL;
  }
  s->finalized = 1;
  maybe_free(s);
}

static void on_readable(uv_poll_t* handle, int status, int events) {
  (void)events;
  sock_t* s = (sock_t*)handle->data;
  if (s->closed || status < 0) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv;
  napi_get_reference_value(env, s->callback, &cb);
  // napi_make_callback needs an object receiver; undefined would throw in V8's ToObject.
  napi_get_global(env, &recv);
  for (int i = 0; i < MAX_BATCH && !s->closed; i++) {
    struct sockaddr_ll from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(s->fd, s->buf, sizeof s->buf, 0, (struct sockaddr*)&from, &fromlen);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: drained; anything else: the next poll event reports it again
    }
    napi_value args[3];
    void* data;
    napi_create_buffer_copy(env, (size_t)n, s->buf, &data, &args[0]);
    napi_create_int32(env, from.sll_pkttype, &args[1]);
    napi_create_int32(env, from.sll_ifindex, &args[2]);
    napi_value result;
    napi_status st = napi_make_callback(env, s->async, recv, cb, 3, args, &result);
    if (st != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value err;
        napi_get_and_clear_last_exception(env, &err);
        napi_fatal_exception(env, err);
      }
      break;
    }
  }
  napi_close_handle_scope(env, scope);
}

static int get_int(napi_env env, napi_value v, int32_t* out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) return 0;
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static sock_t* get_sock(napi_env env, napi_value v) {
  void* data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) return NULL;
  return (sock_t*)data;
}

// open(ifindex, protocol, filter: Buffer | null, onFrame(frame, pkttype, ifindex)) -> handle
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return throw_type(env, "open(ifindex, protocol, filter, onFrame) takes four arguments");
  int32_t ifindex, protocol;
  if (!get_int(env, argv[0], &ifindex) || ifindex <= 0) return throw_type(env, "ifindex must be a positive integer");
  if (!get_int(env, argv[1], &protocol) || protocol < 0 || protocol > 0xffff) return throw_type(env, "protocol must be an EtherType (0-65535)");
  napi_valuetype ft;
  napi_typeof(env, argv[2], &ft);
  void* filter = NULL;
  size_t filter_len = 0;
  if (ft != napi_null && ft != napi_undefined) {
    bool is_buf = false;
    napi_is_buffer(env, argv[2], &is_buf);
    if (!is_buf) return throw_type(env, "filter must be a Buffer of struct sock_filter, or null");
    napi_get_buffer_info(env, argv[2], &filter, &filter_len);
    if (filter_len == 0 || filter_len % sizeof(struct sock_filter) != 0 || filter_len / sizeof(struct sock_filter) > BPF_MAXINSNS)
      return throw_type(env, "filter length must be a positive multiple of 8 bytes, at most 4096 instructions");
  }
  napi_valuetype cbt;
  napi_typeof(env, argv[3], &cbt);
  if (cbt != napi_function) return throw_type(env, "onFrame must be a function");

  // Protocol 0 receives nothing until bind, so no frame slips in before the filter
  // is attached or from another interface before the socket is bound to its own.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);
  if (filter) {
    struct sock_fprog prog = {.len = (unsigned short)(filter_len / sizeof(struct sock_filter)), .filter = (struct sock_filter*)filter};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
      int e = errno;
      close(fd);
      return throw_errno(env, "setsockopt(SO_ATTACH_FILTER)", e);
    }
  }
  struct sockaddr_ll addr;
  memset(&addr, 0, sizeof addr);
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons((uint16_t)protocol);
  addr.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind(AF_PACKET)", e);
  }

  sock_t* s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  s->fd = fd;
  s->ifindex = ifindex;
  s->env = env;
  napi_create_reference(env, argv[3], 1, &s->callback);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "lbc:PacketSocket", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &s->async);

  uv_loop_t* loop;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init(loop, &s->poll, fd);
  if (rc != 0) {
    napi_delete_reference(env, s->callback);
    napi_async_destroy(env, s->async);
    close(fd);
    free(s);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  s->poll.data = s;
  rc = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  if (rc != 0) {
    // No external will own it: free it once libuv lets go of the handle.
    sock_close(s);
    napi_async_destroy(env, s->async);
    s->async = NULL;
    s->finalized = 1;
    return throw_errno(env, "uv_poll_start", -rc);
  }

  napi_value handle;
  napi_create_external(env, s, finalize_sock, NULL, &handle);
  return handle;
}

// send(handle, frame: Buffer) -> bytes sent
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sock_t* s = argc >= 1 ? get_sock(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "not a packet socket handle");
  if (s->closed) return throw_errno(env, "send", EBADF);
  bool is_buf = false;
  if (argc >= 2) napi_is_buffer(env, argv[1], &is_buf);
  if (!is_buf) return throw_type(env, "frame must be a Buffer");
  void* data;
  size_t len;
  napi_get_buffer_info(env, argv[1], &data, &len);
  if (len < ETH_HLEN) return throw_type(env, "frame is shorter than an Ethernet header");
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_ifindex = s->ifindex;
  to.sll_halen = ETH_ALEN;
  memcpy(to.sll_addr, data, ETH_ALEN);
  ssize_t n;
  do {
    n = sendto(s->fd, data, len, 0, (struct sockaddr*)&to, sizeof to);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "sendto(AF_PACKET)", errno);
  napi_value out;
  napi_create_int64(env, n, &out);
  return out;
}

static napi_value membership(napi_env env, napi_callback_info info, int opt, const char* what) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sock_t* s = argc >= 1 ? get_sock(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "not a packet socket handle");
  if (s->closed) return throw_errno(env, what, EBADF);
  bool is_buf = false;
  if (argc >= 2) napi_is_buffer(env, argv[1], &is_buf);
  void* mac;
  size_t len = 0;
  if (is_buf) napi_get_buffer_info(env, argv[1], &mac, &len);
  if (len != ETH_ALEN) return throw_type(env, "mac must be a 6-byte Buffer");
  struct packet_mreq mr;
  memset(&mr, 0, sizeof mr);
  mr.mr_ifindex = s->ifindex;
  mr.mr_type = PACKET_MR_MULTICAST;
  mr.mr_alen = ETH_ALEN;
  memcpy(mr.mr_address, mac, ETH_ALEN);
  if (setsockopt(s->fd, SOL_PACKET, opt, &mr, sizeof mr) < 0) return throw_errno(env, what, errno);
  return NULL;
}

static napi_value js_add_membership(napi_env env, napi_callback_info info) {
  return membership(env, info, PACKET_ADD_MEMBERSHIP, "setsockopt(PACKET_ADD_MEMBERSHIP)");
}

static napi_value js_drop_membership(napi_env env, napi_callback_info info) {
  return membership(env, info, PACKET_DROP_MEMBERSHIP, "setsockopt(PACKET_DROP_MEMBERSHIP)");
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sock_t* s = argc >= 1 ? get_sock(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "not a packet socket handle");
  // The struct stays alive until the external is finalized and libuv has closed the handle.
  sock_close(s);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addMembership", NULL, js_add_membership, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dropMembership", NULL, js_drop_membership, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  tcp_md5_register(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
