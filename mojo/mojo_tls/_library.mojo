# Loading libmojo_tls, the TLSError type and buffer helpers shared by the
# idiomatic layer (hand-written; the generated FFI is in _ffi.mojo).

from std.os import getenv
from std.os.path import dirname, exists
from std.reflection import source_location

from ._ffi import (
    ABI_VERSION,
    MojoTlsFFI,
    MOJO_TLS_OK,
    MOJO_TLS_ERR_WANT_READ,
    MOJO_TLS_ERR_WANT_WRITE,
    MOJO_TLS_ERR_TIMEOUT,
    MOJO_TLS_ERR_CLOSED,
    MOJO_TLS_ERR_TRUNCATED,
    MOJO_TLS_ERR_INVALID_ARGUMENT,
    MOJO_TLS_ERR_INVALID_HANDLE,
    MOJO_TLS_ERR_VERIFY_FAILED,
    MOJO_TLS_ERR_HANDSHAKE,
    MOJO_TLS_ERR_IO,
    MOJO_TLS_ERR_UNSUPPORTED,
    MOJO_TLS_ERR_PARSE,
    MOJO_TLS_ERR_BAD_PASSWORD,
    MOJO_TLS_ERR_NOT_FOUND,
    MOJO_TLS_ERR_CONNECT,
    MOJO_TLS_ERR_PROTOCOL,
    MOJO_TLS_ERR_BAD_STATE,
    MOJO_TLS_ERR_NO_MEMORY,
    MOJO_TLS_ERR_NOT_AVAILABLE,
    MOJO_TLS_ERR_INTERNAL,
    MOJO_TLS_ERR_INTERRUPTED,
    MOJO_TLS_ERR_RESET,
)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def error_name(code: Int) -> String:
    """The `MOJO_TLS_ERR_*` name of an error code ("MOJO_TLS_OK" for 0)."""
    if code == MOJO_TLS_OK:
        return "MOJO_TLS_OK"
    elif code == MOJO_TLS_ERR_WANT_READ:
        return "MOJO_TLS_ERR_WANT_READ"
    elif code == MOJO_TLS_ERR_WANT_WRITE:
        return "MOJO_TLS_ERR_WANT_WRITE"
    elif code == MOJO_TLS_ERR_TIMEOUT:
        return "MOJO_TLS_ERR_TIMEOUT"
    elif code == MOJO_TLS_ERR_CLOSED:
        return "MOJO_TLS_ERR_CLOSED"
    elif code == MOJO_TLS_ERR_TRUNCATED:
        return "MOJO_TLS_ERR_TRUNCATED"
    elif code == MOJO_TLS_ERR_INVALID_ARGUMENT:
        return "MOJO_TLS_ERR_INVALID_ARGUMENT"
    elif code == MOJO_TLS_ERR_INVALID_HANDLE:
        return "MOJO_TLS_ERR_INVALID_HANDLE"
    elif code == MOJO_TLS_ERR_VERIFY_FAILED:
        return "MOJO_TLS_ERR_VERIFY_FAILED"
    elif code == MOJO_TLS_ERR_HANDSHAKE:
        return "MOJO_TLS_ERR_HANDSHAKE"
    elif code == MOJO_TLS_ERR_IO:
        return "MOJO_TLS_ERR_IO"
    elif code == MOJO_TLS_ERR_UNSUPPORTED:
        return "MOJO_TLS_ERR_UNSUPPORTED"
    elif code == MOJO_TLS_ERR_PARSE:
        return "MOJO_TLS_ERR_PARSE"
    elif code == MOJO_TLS_ERR_BAD_PASSWORD:
        return "MOJO_TLS_ERR_BAD_PASSWORD"
    elif code == MOJO_TLS_ERR_NOT_FOUND:
        return "MOJO_TLS_ERR_NOT_FOUND"
    elif code == MOJO_TLS_ERR_CONNECT:
        return "MOJO_TLS_ERR_CONNECT"
    elif code == MOJO_TLS_ERR_PROTOCOL:
        return "MOJO_TLS_ERR_PROTOCOL"
    elif code == MOJO_TLS_ERR_BAD_STATE:
        return "MOJO_TLS_ERR_BAD_STATE"
    elif code == MOJO_TLS_ERR_NO_MEMORY:
        return "MOJO_TLS_ERR_NO_MEMORY"
    elif code == MOJO_TLS_ERR_NOT_AVAILABLE:
        return "MOJO_TLS_ERR_NOT_AVAILABLE"
    elif code == MOJO_TLS_ERR_INTERNAL:
        return "MOJO_TLS_ERR_INTERNAL"
    elif code == MOJO_TLS_ERR_INTERRUPTED:
        return "MOJO_TLS_ERR_INTERRUPTED"
    elif code == MOJO_TLS_ERR_RESET:
        return "MOJO_TLS_ERR_RESET"
    return String("error ", code)


struct TLSError(Copyable, Movable, Writable):
    """An error of libmojo_tls: `code` is a `MOJO_TLS_ERR_*` value (negative),
    `message` the library's explanation (mojo_tls_last_error: what failed,
    with the Mbed TLS code and text and, for certificates, the reason).

    Every method of this package that can fail raises it:

    ```mojo
    try:
        var s = TLSStream.connect("expired.example", 443)
    except e:
        if e.code == MOJO_TLS_ERR_VERIFY_FAILED:
            print("bad certificate:", e.message)
    ```

    In a function declared plain `raises`, it becomes an `Error` whose text is
    "TLSError(MOJO_TLS_ERR_..., code): message"; `TLSError.from_error(e)`
    gives the TLSError back.
    """

    var code: Int
    var message: String

    def __init__(out self, code: Int, var message: String):
        self.code = code
        self.message = message^

    @staticmethod
    def from_error(e: Error) -> Optional[TLSError]:
        """The TLSError an `Error` was converted from (a `try` block that
        also calls a plain-`raises` function catches an `Error`: Mojo
        converts the typed error through its text), None for any other
        error."""
        var text = String(e)
        if not text.startswith("TLSError(MOJO_TLS_"):
            return None
        var comma = text.find(", ")
        var close = text.find("): ")
        if comma < 0 or close < comma:
            return None
        try:
            var code = Int(text[byte=comma + 2 : close])
            return TLSError(code, String(text[byte=close + 3 :]))
        except:
            return None

    def name(self) -> String:
        """The code's name, e.g. "MOJO_TLS_ERR_VERIFY_FAILED"."""
        return error_name(self.code)

    def is_want_read(self) -> Bool:
        """More input is needed (memory mode or non-blocking): poll the fd
        for reading (or feed ciphertext) and call again."""
        return self.code == MOJO_TLS_ERR_WANT_READ

    def is_want_write(self) -> Bool:
        """Non-blocking: the socket is full; poll the fd for writing and call
        again (a write with the same data)."""
        return self.code == MOJO_TLS_ERR_WANT_WRITE

    def is_timeout(self) -> Bool:
        """A timeout elapsed."""
        return self.code == MOJO_TLS_ERR_TIMEOUT

    def is_verify_failed(self) -> Bool:
        """The peer's certificate (or pin) did not verify."""
        return self.code == MOJO_TLS_ERR_VERIFY_FAILED

    def is_reset(self) -> Bool:
        """The peer reset the connection (ECONNRESET / EPIPE)."""
        return self.code == MOJO_TLS_ERR_RESET

    def is_closed(self) -> Bool:
        """The stream was closed on this side (close(), or a write after
        close_notify), or the listener was closed; a peer reset is
        `is_reset()` instead."""
        return self.code == MOJO_TLS_ERR_CLOSED

    def is_truncated(self) -> Bool:
        """The peer's end came without close_notify (see
        `read_all(allow_truncation=True)`)."""
        return self.code == MOJO_TLS_ERR_TRUNCATED

    def is_interrupted(self) -> Bool:
        """A signal interrupted a blocking call (a handler installed without
        SA_RESTART); nothing was lost: call again."""
        return self.code == MOJO_TLS_ERR_INTERRUPTED

    def write_to(self, mut writer: Some[Writer]):
        writer.write(
            "TLSError(",
            error_name(self.code),
            ", ",
            self.code,
            "): ",
            self.message,
        )


def invalid_argument(message: String) -> TLSError:
    return TLSError(MOJO_TLS_ERR_INVALID_ARGUMENT, message)


def check_size(n: Int, what: String) raises TLSError:
    """Sizes and counts are >= 0: a negative one would reach a List
    constructor (len() < 0, then memory corruption) before the C ABI could
    reject it."""
    if n < 0:
        raise invalid_argument(String(what, " must be >= 0, not ", n))


def check_i32(v: Int, what: String) raises TLSError:
    """The C parameter is an int32_t: a larger Int would be truncated (a
    timeout of 2**32 ms would become 0, i.e. non-blocking)."""
    if v < -2147483648 or v > 2147483647:
        raise invalid_argument(
            String(what, " is out of range (32-bit signed): ", v)
        )


def last_error_message(ffi: MojoTlsFFI) -> String:
    """The calling thread's last library error message ("" if none)."""
    var cap = 512
    while True:
        var buf = List[UInt8](length=cap, fill=0)
        var n = ffi.last_error(Int(buf.unsafe_ptr()), cap)
        if n < cap:
            return String(from_utf8_lossy=Span(buf)[0:n])
        cap = n + 1


def make_error(ffi: MojoTlsFFI, code: Int, context: String) -> TLSError:
    """The TLSError for a failed call that returned `code`; the message comes
    from mojo_tls_last_error when it is about that failure."""
    var c = code
    if c >= 0:
        c = MOJO_TLS_ERR_INTERNAL
    var msg = last_error_message(ffi)
    if msg.byte_length() == 0 or ffi.last_error_code() != c:
        var s = ffi.strerror(c)
        msg = s.value() if s else String("error ", c)
    if context.byte_length() > 0:
        msg = String(context, ": ", msg)
    return TLSError(c, msg^)


def null_error(ffi: MojoTlsFFI, context: String) -> TLSError:
    """The TLSError after a constructor returned NULL."""
    var code = ffi.last_error_code()
    if code >= 0:
        code = MOJO_TLS_ERR_INTERNAL
    return make_error(ffi, code, context)


def closed_error(what: String) -> TLSError:
    """The error for an operation on a closed object."""
    return TLSError(MOJO_TLS_ERR_CLOSED, String(what, " is closed"))


# ---------------------------------------------------------------------------
# Finding and loading the library
# ---------------------------------------------------------------------------


def library_file_names() -> List[String]:
    """File names the library may have, most specific first."""
    var abi = String(ABI_VERSION)
    var out = List[String]()
    out.append(String("libmojo_tls.so.", abi))
    out.append("libmojo_tls.so")
    out.append(String("libmojo_tls.", abi, ".dylib"))
    out.append("libmojo_tls.dylib")
    return out^


def _add_dir(mut out: List[String], dir: String):
    for name in library_file_names():
        var p = String(dir, "/", name)
        if p not in out:
            out.append(p)


def package_dir() -> Optional[String]:
    """This package's own directory (where `_library.mojo` was compiled
    from), or None when the compiler was given a relative path: that would
    be resolved against whatever the working directory is at run time,
    which is exactly the planting hole the search must not have."""
    var here = String(source_location().file_name())
    if not here.startswith("/"):
        return None
    return dirname(here)


def library_candidates() -> List[String]:
    """The files `load_library` tries before the system's library search
    path (when MOJO_TLS_LIBRARY is unset): the library beside this package's
    own source files (a copy placed there on purpose). Nothing relative to
    the working directory or to the running program is ever searched: a
    library planted in such a place (a world-writable temporary directory,
    a shared checkout) must not be loaded."""
    var out = List[String]()
    var pkg = package_dir()
    if pkg:
        _add_dir(out, pkg.value())
    return out^


def load_library() raises TLSError -> MojoTlsFFI:
    """Load libmojo_tls: `$MOJO_TLS_LIBRARY` when set (and only it), else
    the first of `library_candidates()` that exists, else by name from the
    system's library search path (LD_LIBRARY_PATH, ld.so.cache, ...)."""
    var env = getenv("MOJO_TLS_LIBRARY")
    if env.byte_length() > 0:
        try:
            return MojoTlsFFI(env)
        except e:
            raise TLSError(
                MOJO_TLS_ERR_NOT_FOUND,
                String("cannot load MOJO_TLS_LIBRARY=", env, ": ", e),
            )
    var tried = List[String]()
    for path in library_candidates():
        if exists(path):
            try:
                return MojoTlsFFI(path)
            except e:
                tried.append(String(path, " (", e, ")"))
    for name in library_file_names():
        try:
            return MojoTlsFFI(name)
        except:
            tried.append(String(name, " (system search path)"))
    raise TLSError(
        MOJO_TLS_ERR_NOT_FOUND,
        String(
            (
                "cannot load libmojo_tls (set MOJO_TLS_LIBRARY to its path);"
                " tried: "
            ),
            String(", ").join(tried),
        ),
    )


# ---------------------------------------------------------------------------
# Buffers
# ---------------------------------------------------------------------------


def bytes_of(text: StringSlice) -> List[UInt8]:
    """The UTF-8 bytes of `text`."""
    return List[UInt8](text.as_bytes())


def addr_of(data: Span[UInt8, _]) -> Int:
    """The address of a byte span (for the FFI; 0 when empty)."""
    if len(data) == 0:
        return 0
    return Int(data.unsafe_ptr())


def to_hex(data: Span[UInt8, _], sep: String = "") -> String:
    """Lowercase hex of `data`, bytes separated by `sep` (e.g. ":")."""
    comptime digits = "0123456789abcdef"
    var out = String()
    for i in range(len(data)):
        if i > 0 and sep.byte_length() > 0:
            out += sep
        var b = Int(data[i])
        out += String(digits[byte=b >> 4])
        out += String(digits[byte=b & 15])
    return out^


def from_hex(text: String) raises TLSError -> List[UInt8]:
    """Bytes from hex text; ':' and spaces between bytes are ignored."""
    var out = List[UInt8]()
    var hi = -1
    for b in text.as_bytes():
        var v: Int
        var c = Int(b)
        if c >= 48 and c <= 57:
            v = c - 48
        elif c >= 97 and c <= 102:
            v = c - 87
        elif c >= 65 and c <= 70:
            v = c - 55
        elif c == 58 or c == 32:
            continue
        else:
            raise TLSError(
                MOJO_TLS_ERR_INVALID_ARGUMENT, String("not hex: ", text)
            )
        if hi < 0:
            hi = v
        else:
            out.append(UInt8(hi * 16 + v))
            hi = -1
    if hi >= 0:
        raise TLSError(
            MOJO_TLS_ERR_INVALID_ARGUMENT,
            String("odd number of hex digits: ", text),
        )
    return out^
