"""TLS for Mojo over libmojo_tls (Mbed TLS): the `mojo_tls` package.

```mojo
from mojo_tls import TLSConfig, TLSStream, TLSListener

def main() raises:
    var s = TLSStream.connect("example.com", 443, timeout_ms=10000)
    s.write_all("HEAD / HTTP/1.1\\r\\nHost: example.com\\r\\nConnection: close\\r\\n\\r\\n")
    print(s.get_version(), s.get_cipher())
    print(s.read_string())
    s.close()
```

Servers: `TLSConfig.server(cert_file, key_file)`, `TLSListener.bind(host,
port, config)`, `accept()`. Custom transports and event loops:
`TLSMemoryStream` (feed / drain ciphertext). Errors raise `TLSError` (`code`,
`message`). The shared library is found through `MOJO_TLS_LIBRARY`, else
beside this package's sources, else the system's search path (never
relative to the working directory or the program). Servers of many
clients: `TLSListener.accept_no_handshake`, non-blocking `try_handshake` /
`try_read` / `try_write` and `Poller` (poll(2)). The
low-level FFI (one method per C function) is `mojo_tls._ffi.MojoTlsFFI`;
its handles are typed (`ConfigPtr`, `ConnPtr`, `GencertPtr`,
`DtlsListenerPtr`). DTLS 1.2: `TLSConfig.dtls_client()` /
`dtls_server(...)`, `DTLSStream` (one datagram per read and write),
`DTLSListener` and `DTLSMemory`.
"""

from ._ffi import (
    MOJO_TLS_ROLE_CLIENT,
    MOJO_TLS_ROLE_SERVER,
    MOJO_TLS_VERSION_TLS1_2,
    MOJO_TLS_VERSION_TLS1_3,
    MOJO_TLS_VERIFY_NONE,
    MOJO_TLS_VERIFY_OPTIONAL,
    MOJO_TLS_VERIFY_REQUIRED,
    MOJO_TLS_CLIENT_AUTH_NONE,
    MOJO_TLS_CLIENT_AUTH_OPTIONAL,
    MOJO_TLS_CLIENT_AUTH_REQUIRED,
    MOJO_TLS_PIN_CERT,
    MOJO_TLS_PIN_SPKI,
    MOJO_TLS_USAGE_SERVER,
    MOJO_TLS_USAGE_CLIENT,
    MOJO_TLS_TRANSPORT_STREAM,
    MOJO_TLS_TRANSPORT_DATAGRAM,
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
    MojoTlsFFI,
    ConfigPtr,
    ConnPtr,
    GencertPtr,
    DtlsListenerPtr,
)
from ._library import (
    TLSError,
    error_name,
    library_candidates,
    load_library,
    to_hex,
    from_hex,
)
from .config import TLSConfig, has_tls13
from .stream import TLSStream, TLSListener, IOResult, connect
from .poll import Poller, monotonic_ms, POLLIN, POLLOUT, POLLERR, POLLHUP
from .memory import TLSMemoryStream
from .dtls import DTLSStream, DTLS_MAX_DATAGRAM
from .dtls_listener import DTLSListener
from .dtls_memory import DTLSMemory
from .certs import (
    GeneratedCert,
    generate_ca,
    generate_cert,
    sha256,
    random_bytes,
    random_fill,
    RANDOM_BYTES_MAX,
    library_version,
    backend,
)
