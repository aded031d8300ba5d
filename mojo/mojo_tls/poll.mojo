# Poller: poll(2) for event loops over non-blocking TLSStreams and listeners.

from std.ffi import external_call
from std.memory import Pointer
from std.time import perf_counter_ns

from ._ffi import MOJO_TLS_ERR_IO, MOJO_TLS_ERR_INVALID_ARGUMENT
from ._library import TLSError, check_i32
from .stream import IOResult

comptime POLLIN = 0x001
comptime POLLOUT = 0x004
comptime POLLERR = 0x008
comptime POLLHUP = 0x010
comptime POLLNVAL = 0x020

comptime _EINTR = 4


def monotonic_ms() -> Int:
    """Milliseconds of a monotonic clock (for deadlines in event loops)."""
    return Int(perf_counter_ns() // 1_000_000)


struct Poller(Movable, Sized):
    """One `poll(2)` round over many fds: `add` each fd with what to wait
    for, `wait`, then ask `readable(i)` / `writable(i)` by the index `add`
    returned; `clear` before the next round.

    With TLS streams (after `set_timeout(0)`): register the direction the
    last `try_*` call asked for (`add(fd, result)`), and never poll a
    stream whose `pending()` is > 0 (those bytes are already inside the
    library; read them first).

    ```mojo
    var p = Poller()
    var i = p.add(stream.fileno(), r)      # r: the IOResult of try_read
    if p.wait(1000) > 0 and p.ready(i):
        r = stream.try_read(buf)
    ```
    """

    # struct pollfd { int fd; short events; short revents; } as two Int32s
    # per fd: the fd, then events (low half) and revents (high half) on a
    # little-endian machine (every target Mojo supports).
    var _fds: List[Int32]

    def __init__(out self):
        self._fds = List[Int32]()

    def __len__(self) -> Int:
        return len(self._fds) // 2

    def clear(mut self):
        """Forget every fd (start the next round)."""
        self._fds.clear()

    def add(
        mut self, fd: Int, for_read: Bool = True, for_write: Bool = False
    ) raises TLSError -> Int:
        """Wait for `fd` to be readable and/or writable; returns its index."""
        check_i32(fd, "Poller.add: fd")
        if fd < 0:
            raise TLSError(
                MOJO_TLS_ERR_INVALID_ARGUMENT,
                String("Poller.add: fd must be >= 0, not ", fd),
            )
        var events = (POLLIN if for_read else 0) | (POLLOUT if for_write else 0)
        self._fds.append(Int32(fd))
        self._fds.append(Int32(events))
        return len(self._fds) // 2 - 1

    def add(mut self, fd: Int, result: IOResult) raises TLSError -> Int:
        """Wait for what a `try_*` call asked for (want_write: writable,
        else readable)."""
        return self.add(fd, not result.want_write(), result.want_write())

    def wait(mut self, timeout_ms: Int) raises TLSError -> Int:
        """poll(2) for up to `timeout_ms` (< 0 blocks, 0 returns at once):
        the number of fds with events; 0 on timeout or when a signal
        interrupted the wait (check your deadlines and call again)."""
        check_i32(timeout_ms, "Poller.wait: timeout_ms")
        for i in range(len(self)):
            self._fds[2 * i + 1] = self._fds[2 * i + 1] & 0xFFFF
        var n = external_call["poll", Int32](
            self._fds.unsafe_ptr(), UInt64(len(self)), Int32(timeout_ms)
        )
        if n < 0:
            var errno = external_call[
                "__errno_location", Pointer[Int32, MutAnyOrigin]
            ]()[]
            if errno == _EINTR:
                return 0
            raise TLSError(MOJO_TLS_ERR_IO, String("poll failed: errno ", errno))
        return Int(n)

    def revents(self, i: Int) -> Int:
        """The raw `revents` of fd `i` after `wait`."""
        return Int((self._fds[2 * i + 1] >> 16) & 0xFFFF)

    def readable(self, i: Int) -> Bool:
        """Fd `i` has input, or an end or error a read will report."""
        return (self.revents(i) & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0

    def writable(self, i: Int) -> Bool:
        """Fd `i` takes output, or has an error a write will report."""
        return (self.revents(i) & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) != 0

    def ready(self, i: Int) -> Bool:
        """Fd `i` is ready for what it was added for."""
        var ev = Int(self._fds[2 * i + 1] & 0xFFFF)
        return ((ev & POLLIN) != 0 and self.readable(i)) or (
            (ev & POLLOUT) != 0 and self.writable(i)
        )
