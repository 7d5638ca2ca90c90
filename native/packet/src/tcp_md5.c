// TCP sockets signed with an MD5 key (RFC 2385, TCP_MD5SIG), for BGP peers that require
// a password. Node's net module cannot set the option, and the key must be in place
// before the SYN, so the socket is made and its non-blocking connect started here; JS
// polls connectResult() and hands the connected descriptor to net.Socket({ fd }).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <node_api.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_md5.h"

static napi_value md5_error(napi_env env, const char* what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, message, error, errno_value;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_string_utf8(env, "ERR_TCP_MD5", NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_throw(env, error);
  return NULL;
}

static int to_sockaddr(const char* text, int port, struct sockaddr_storage* ss, socklen_t* len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in* v4 = (struct sockaddr_in*)ss;
  struct sockaddr_in6* v6 = (struct sockaddr_in6*)ss;
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof *v4;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof *v6;
    return AF_INET6;
  }
  return -1;
}

// tcpMd5Connect(peer, port, key, localAddress | null) -> fd, connecting.
static napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return md5_error(env, "tcpMd5Connect(peer, port, key, localAddress)", EINVAL);
  char peer[64], key[TCP_MD5SIG_MAXKEYLEN + 1], local[64];
  size_t n;
  int32_t port;
  if (napi_get_value_string_utf8(env, argv[0], peer, sizeof peer, &n) != napi_ok) return md5_error(env, "peer address", EINVAL);
  if (napi_get_value_int32(env, argv[1], &port) != napi_ok) return md5_error(env, "port", EINVAL);
  size_t keylen = 0;
  if (napi_get_value_string_utf8(env, argv[2], NULL, 0, &keylen) != napi_ok || keylen > TCP_MD5SIG_MAXKEYLEN) return md5_error(env, "the TCP MD5 key (at most 80 bytes)", EINVAL);
  napi_get_value_string_utf8(env, argv[2], key, sizeof key, &keylen);
  napi_valuetype lt;
  napi_typeof(env, argv[3], &lt);
  int has_local = lt == napi_string;
  if (has_local) napi_get_value_string_utf8(env, argv[3], local, sizeof local, &n);

  struct sockaddr_storage ss;
  socklen_t sslen;
  int family = to_sockaddr(peer, port, &ss, &sslen);
  if (family < 0) return md5_error(env, "peer address", EINVAL);
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return md5_error(env, "socket", errno);
  struct tcp_md5sig sig;
  memset(&sig, 0, sizeof sig);
  memcpy(&sig.tcpm_addr, &ss, sslen);
  sig.tcpm_keylen = (uint16_t)keylen;
  memcpy(sig.tcpm_key, key, keylen);
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) < 0) {
    int e = errno;
    close(fd);
    return md5_error(env, "setsockopt(TCP_MD5SIG)", e);
  }
  if (has_local) {
    struct sockaddr_storage ls;
    socklen_t lslen;
    if (to_sockaddr(local, 0, &ls, &lslen) != family) {
      close(fd);
      return md5_error(env, "local address (not of the peer's family)", EINVAL);
    }
    if (bind(fd, (struct sockaddr*)&ls, lslen) < 0) {
      int e = errno;
      close(fd);
      return md5_error(env, "bind", e);
    }
  }
  if (connect(fd, (struct sockaddr*)&ss, sslen) < 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    return md5_error(env, "connect", e);
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

// connectResult(fd) -> true once connected, false while connecting; throws the connect error.
static napi_value js_connect_result(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) return md5_error(env, "connectResult(fd)", EINVAL);
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int r = poll(&p, 1, 0);
  napi_value out;
  if (r == 0) {
    napi_get_boolean(env, false, &out);
    return out;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err) return md5_error(env, "connect", err);
  napi_get_boolean(env, true, &out);
  return out;
}

static napi_value js_close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  if (argc >= 1 && napi_get_value_int32(env, argv[0], &fd) == napi_ok && fd >= 0) close(fd);
  return NULL;
}

void tcp_md5_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"tcpMd5Connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connectResult", NULL, js_connect_result, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, js_close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
