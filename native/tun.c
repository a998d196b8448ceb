/*
 * l4's Linux TUN device, as a Node-API addon (C, no dependencies beyond Node's headers).
 *
 * What it does, and only that: open /dev/net/tun as a layer-3 device (IFF_TUN | IFF_NO_PI,
 * non-blocking, close-on-exec), configure the kernel's side of it with ioctls (MTU, up, an
 * IPv4 address and prefix, an IPv6 address and prefix), watch the descriptor on libuv's own
 * loop (uv_poll: no thread, no thread hop per packet) and, when it is readable, read up to
 * a batch of packets and hand them to JavaScript in one call; write one packet per call
 * (a TUN write is one packet; it never blocks for long: the kernel takes it or drops it).
 *
 * Errors are thrown as JavaScript Errors whose `code` is the errno name (EPERM, ENOENT,
 * EBUSY, EINVAL...) and whose `syscall` names the call, as Node's own errors do.
 */
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#ifdef __linux__
#include <linux/if_tun.h>
#endif

/* The largest IP datagram. */
#define MAX_PACKET 65536
/* Packets read per readable event before JavaScript sees them (and before yielding). */
#define READ_BATCH 64

#define CHECK(call)                                                                         \
  do {                                                                                      \
    if ((call) != napi_ok) {                                                                \
      napi_throw_error(env, NULL, "l4 tun addon: Node-API call failed: " #call);            \
      return NULL;                                                                          \
    }                                                                                       \
  } while (0)

static const char *errno_code(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case EEXIST: return "EEXIST";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case EIO: return "EIO";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    default: return "EUNKNOWN";
  }
}

/* Throws an Error with code = errno name, syscall, errno (negative, as libuv reports it). */
static void throw_errno(napi_env env, int err, const char *syscall, const char *what) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s (%s)", what, strerror(err), syscall);
  napi_value msg, code, error, value;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok) return;
  if (napi_create_string_utf8(env, errno_code(err), NAPI_AUTO_LENGTH, &code) != napi_ok) return;
  if (napi_create_error(env, code, msg, &error) != napi_ok) return;
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value) == napi_ok) napi_set_named_property(env, error, "syscall", value);
  if (napi_create_int32(env, -err, &value) == napi_ok) napi_set_named_property(env, error, "errno", value);
  napi_throw(env, error);
}

static napi_value undefined_value(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static int get_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len;
  return napi_get_value_string_utf8(env, v, buf, size, &len) == napi_ok;
}

#ifdef __linux__

/* open(name) -> { fd, name }: creates the interface, or attaches to an existing TUN one. */
static napi_value tun_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  if (argc < 1 || !get_string(env, argv[0], name, sizeof name)) {
    napi_throw_type_error(env, NULL, "open(name): name must be a string");
    return NULL;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    throw_errno(env, errno, "open", "/dev/net/tun");
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, err, "ioctl(TUNSETIFF)", name[0] ? name : "tun");
    return NULL;
  }
  napi_value result, v;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &v));
  CHECK(napi_set_named_property(env, result, "fd", v));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, result, "name", v));
  return result;
}

/* An ifreq-ioctl on a throwaway socket of `family`; returns 0 or errno. */
static int if_ioctl(int family, unsigned long request, void *arg) {
  int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  int rc = ioctl(s, request, arg);
  int err = rc < 0 ? errno : 0;
  close(s);
  return err;
}

/* setMtu(name, mtu) */
static napi_value tun_set_mtu(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  int32_t mtu;
  if (argc < 2 || !get_string(env, argv[0], name, sizeof name) || !get_int(env, argv[1], &mtu)) {
    napi_throw_type_error(env, NULL, "setMtu(name, mtu)");
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  ifr.ifr_mtu = mtu;
  int err = if_ioctl(AF_INET, SIOCSIFMTU, &ifr);
  if (err) throw_errno(env, err, "ioctl(SIOCSIFMTU)", name);
  return undefined_value(env);
}

/* setUp(name, up) */
static napi_value tun_set_up(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  bool up = true;
  if (argc < 2 || !get_string(env, argv[0], name, sizeof name) || napi_get_value_bool(env, argv[1], &up) != napi_ok) {
    napi_throw_type_error(env, NULL, "setUp(name, up)");
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  int err = if_ioctl(AF_INET, SIOCGIFFLAGS, &ifr);
  if (!err) {
    if (up) ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    else ifr.ifr_flags &= ~IFF_UP;
    err = if_ioctl(AF_INET, SIOCSIFFLAGS, &ifr);
  }
  if (err) throw_errno(env, err, "ioctl(SIOCSIFFLAGS)", name);
  return undefined_value(env);
}

/* addAddress4(name, address, prefixLength): the kernel side's address and netmask. */
static napi_value tun_add_address4(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  char text[INET_ADDRSTRLEN + 1] = {0};
  int32_t prefix;
  if (argc < 3 || !get_string(env, argv[0], name, sizeof name) || !get_string(env, argv[1], text, sizeof text) ||
      !get_int(env, argv[2], &prefix) || prefix < 0 || prefix > 32) {
    napi_throw_type_error(env, NULL, "addAddress4(name, address, prefixLength)");
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
  sin->sin_family = AF_INET;
  if (inet_pton(AF_INET, text, &sin->sin_addr) != 1) {
    napi_throw_type_error(env, NULL, "addAddress4: not an IPv4 address");
    return NULL;
  }
  int err = if_ioctl(AF_INET, SIOCSIFADDR, &ifr);
  if (err) {
    throw_errno(env, err, "ioctl(SIOCSIFADDR)", name);
    return NULL;
  }
  sin->sin_addr.s_addr = prefix == 0 ? 0 : htonl(0xffffffffu << (32 - prefix));
  err = if_ioctl(AF_INET, SIOCSIFNETMASK, &ifr);
  if (err) throw_errno(env, err, "ioctl(SIOCSIFNETMASK)", name);
  return undefined_value(env);
}

/* linux/ipv6.h's in6_ifreq, declared here to avoid clashing headers. */
struct l4_in6_ifreq {
  struct in6_addr addr;
  uint32_t prefixlen;
  int ifindex;
};

/* addAddress6(name, address, prefixLength) */
static napi_value tun_add_address6(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  char text[INET6_ADDRSTRLEN + 1] = {0};
  int32_t prefix;
  if (argc < 3 || !get_string(env, argv[0], name, sizeof name) || !get_string(env, argv[1], text, sizeof text) ||
      !get_int(env, argv[2], &prefix) || prefix < 0 || prefix > 128) {
    napi_throw_type_error(env, NULL, "addAddress6(name, address, prefixLength)");
    return NULL;
  }
  struct l4_in6_ifreq req;
  memset(&req, 0, sizeof req);
  if (inet_pton(AF_INET6, text, &req.addr) != 1) {
    napi_throw_type_error(env, NULL, "addAddress6: not an IPv6 address");
    return NULL;
  }
  req.prefixlen = (uint32_t)prefix;
  req.ifindex = (int)if_nametoindex(name);
  if (req.ifindex == 0) {
    throw_errno(env, errno, "if_nametoindex", name);
    return NULL;
  }
  int err = if_ioctl(AF_INET6, SIOCSIFADDR, &req);
  if (err) throw_errno(env, err, "ioctl(SIOCSIFADDR, AF_INET6)", name);
  return undefined_value(env);
}

/* write(fd, packet) -> bytes written, or -errno (EAGAIN, ENOBUFS, EIO...: the packet is lost). */
static napi_value tun_write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  void *data;
  size_t length;
  bool is_typed;
  if (argc < 2 || !get_int(env, argv[0], &fd) || napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed) {
    napi_throw_type_error(env, NULL, "write(fd, packet: Uint8Array)");
    return NULL;
  }
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &length, &data, &ab, &offset));
  ssize_t n = write(fd, data, length);
  napi_value result;
  CHECK(napi_create_int32(env, n < 0 ? -errno : (int32_t)n, &result));
  return result;
}

/* One watched descriptor. */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  int fd;
  int stopped;
  unsigned char *scratch;
} watcher_t;

static void watcher_closed(uv_handle_t *handle) {
  watcher_t *w = (watcher_t *)handle->data;
  free(w->scratch);
  free(w);
}

/* Readable: read a batch, hand it to JavaScript as an array of Buffers (one copy each). */
static void on_readable(uv_poll_t *poll, int status, int events) {
  watcher_t *w = (watcher_t *)poll->data;
  if (w->stopped) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value packets;
  if (napi_create_array(env, &packets) != napi_ok) goto done;
  uint32_t count = 0;
  int read_error = 0;
  if (status < 0) read_error = -status;
  while (!read_error && count < READ_BATCH) {
    ssize_t n = read(w->fd, w->scratch, MAX_PACKET);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) read_error = errno;
      break;
    }
    if (n == 0) break;
    napi_value buffer;
    void *copy;
    if (napi_create_buffer_copy(env, (size_t)n, w->scratch, &copy, &buffer) != napi_ok) break;
    napi_set_element(env, packets, count++, buffer);
  }
  (void)events;
  if (count > 0 || read_error) {
    napi_value callback, recv, result, argv[2];
    napi_get_reference_value(env, w->callback, &callback);
    napi_get_global(env, &recv); /* napi_make_callback wants an object receiver */
    argv[0] = packets;
    if (read_error) {
      napi_create_int32(env, -read_error, &argv[1]);
    } else {
      napi_get_undefined(env, &argv[1]);
    }
    napi_status s = napi_make_callback(env, w->context, recv, callback, 2, argv, &result);
    if (s == napi_pending_exception) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
  }
done:
  napi_close_handle_scope(env, scope);
}

/* watch(fd, callback(packets: Buffer[], errno?)) -> handle; the loop stays alive while watched. */
static napi_value tun_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  napi_valuetype type;
  if (argc < 2 || !get_int(env, argv[0], &fd) || napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "watch(fd, callback)");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watcher_t *w = calloc(1, sizeof *w);
  unsigned char *scratch = malloc(MAX_PACKET);
  if (!w || !scratch) {
    free(w);
    free(scratch);
    napi_throw_error(env, "ENOMEM", "watch: out of memory");
    return NULL;
  }
  w->env = env;
  w->fd = fd;
  w->scratch = scratch;
  napi_value resource_name;
  CHECK(napi_create_string_utf8(env, "l4.TunRead", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(napi_async_init(env, NULL, resource_name, &w->context));
  CHECK(napi_create_reference(env, argv[1], 1, &w->callback));
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc == 0) rc = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  if (rc != 0) {
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->context);
    free(scratch);
    free(w);
    throw_errno(env, -rc, "uv_poll_start", "tun");
    return NULL;
  }
  w->poll.data = w;
  napi_value handle;
  CHECK(napi_create_external(env, w, NULL, NULL, &handle));
  return handle;
}

/* unwatch(handle): stops reading; the handle is freed once libuv has closed it. Idempotent. */
static napi_value tun_unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  watcher_t *w;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&w) != napi_ok || w == NULL) {
    napi_throw_type_error(env, NULL, "unwatch(handle)");
    return NULL;
  }
  if (!w->stopped) {
    w->stopped = 1;
    uv_poll_stop(&w->poll);
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->context);
    uv_close((uv_handle_t *)&w->poll, watcher_closed);
  }
  return undefined_value(env);
}

/* close(fd): closes the descriptor; a non-persistent interface disappears with it. */
static napi_value tun_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 1 || !get_int(env, argv[0], &fd)) {
    napi_throw_type_error(env, NULL, "close(fd)");
    return NULL;
  }
  if (close(fd) < 0) throw_errno(env, errno, "close", "tun");
  return undefined_value(env);
}

#endif /* __linux__ */

static napi_value init(napi_env env, napi_value exports) {
  napi_value v;
#ifdef __linux__
  napi_property_descriptor props[] = {
    {"open", NULL, tun_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setMtu", NULL, tun_set_mtu, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setUp", NULL, tun_set_up, NULL, NULL, NULL, napi_enumerable, NULL},
    {"addAddress4", NULL, tun_add_address4, NULL, NULL, NULL, napi_enumerable, NULL},
    {"addAddress6", NULL, tun_add_address6, NULL, NULL, NULL, napi_enumerable, NULL},
    {"write", NULL, tun_write, NULL, NULL, NULL, napi_enumerable, NULL},
    {"watch", NULL, tun_watch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unwatch", NULL, tun_unwatch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, tun_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  napi_get_boolean(env, true, &v);
#else
  napi_get_boolean(env, false, &v);
#endif
  napi_set_named_property(env, exports, "supported", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
