"""Unit tests of the header parser and emitters of bindings/generate.py."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate as g  # noqa: E402

SAMPLE = r'''
/* plain header comment */
#ifndef X_H
#define X_H
#include <stdint.h>

/**
 * Max value.
 */
#define MOJO_TLS_MAX UINT32_MAX
#define MOJO_TLS_HEX 0x0304
#define MOJO_TLS_SUM (MOJO_TLS_HEX + 1)

/**
 * Errors.
 */
typedef enum mojo_tls_err {
  /**
   * Fine.
   */
  MOJO_TLS_OK = 0,
  MOJO_TLS_ERR_A = -1,
  /** Next one. */
  MOJO_TLS_ERR_B,
} mojo_tls_err;

/**
 * A handle.
 */
typedef struct mojo_tls_thing mojo_tls_thing;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * Make one.
 */
struct mojo_tls_thing *mojo_tls_thing_new(const char *name,
                                          int32_t n);

// a line comment
ptrdiff_t mojo_tls_thing_read(const struct mojo_tls_thing *t, uint8_t *buf, size_t cap);

int mojo_tls_things(const struct mojo_tls_thing *const *list, size_t n);

void mojo_tls_nothing(void);

const char *mojo_tls_name(const void *p);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus
#endif
'''


class ParserTest(unittest.TestCase):
    def setUp(self) -> None:
        self.h = g.parse_header(SAMPLE)

    def test_constants(self) -> None:
        consts = {c.name: c.value for c in self.h.constants}
        self.assertEqual(consts, {"MOJO_TLS_MAX": 0xFFFFFFFF, "MOJO_TLS_HEX": 0x304,
                                  "MOJO_TLS_SUM": 0x305})
        self.assertEqual(self.h.constants[0].doc, "Max value.")

    def test_enum(self) -> None:
        (e,) = self.h.enums
        self.assertEqual(e.name, "mojo_tls_err")
        self.assertEqual([(v.name, v.value) for v in e.variants],
                         [("MOJO_TLS_OK", 0), ("MOJO_TLS_ERR_A", -1), ("MOJO_TLS_ERR_B", 0)])
        self.assertEqual(e.variants[0].doc, "Fine.")
        self.assertEqual(e.variants[2].doc, "Next one.")
        self.assertEqual(e.doc, "Errors.")

    def test_opaque(self) -> None:
        self.assertEqual(self.h.opaque_names(), ["mojo_tls_thing"])
        self.assertEqual(self.h.opaques[0].doc, "A handle.")

    def test_functions(self) -> None:
        fns = {f.name: f for f in self.h.functions}
        self.assertEqual(list(fns), ["mojo_tls_thing_new", "mojo_tls_thing_read",
                                     "mojo_tls_things", "mojo_tls_nothing", "mojo_tls_name"])
        new = fns["mojo_tls_thing_new"]
        self.assertEqual(new.ret, "HANDLE *")
        self.assertEqual(new.ret_handle, "mojo_tls_thing")
        self.assertEqual([(p.name, p.ctype) for p in new.params],
                         [("name", "const char *"), ("n", "int32_t")])
        self.assertEqual(new.doc, "Make one.")
        rd = fns["mojo_tls_thing_read"]
        self.assertEqual([p.ctype for p in rd.params], ["const HANDLE *", "uint8_t *", "size_t"])
        self.assertEqual(rd.doc, "")
        self.assertEqual(fns["mojo_tls_things"].params[0].ctype, "const HANDLE *const *")
        self.assertEqual(fns["mojo_tls_nothing"].params, [])
        self.assertEqual(fns["mojo_tls_name"].ret, "const char *")

    def test_canonical_type(self) -> None:
        ops = ["h"]
        self.assertEqual(g.canonical_type("unsigned   char*", ops), ("unsigned char *", None))
        self.assertEqual(g.canonical_type("char const *", ops), ("const char *", None))
        self.assertEqual(g.canonical_type("struct h *", ops), ("HANDLE *", "h"))
        self.assertEqual(g.canonical_type("char *const", ops), ("char *", None))

    def test_unknown_type_is_an_error(self) -> None:
        with self.assertRaisesRegex(g.GenError, "TYPE_MAP"):
            g.parse_header("float mojo_tls_f(double x);")

    def test_emitters_cover_every_function(self) -> None:
        for path, emit in g.EMITTERS:
            text = emit(self.h)
            self.assertIn(g.GENERATED_LINE, text.splitlines()[0] + text.splitlines()[1])
            for f in self.h.functions:
                self.assertTrue(g.function_present(path, text, f.name), (path, f.name))

    def test_python_output_compiles_and_declares(self) -> None:
        src = g.emit_python(self.h)
        ns: dict = {}
        exec(compile(src, "_ffi.py", "exec"), ns)  # noqa: S102 - our own output
        self.assertEqual(ns["mojo_tls_err"].MOJO_TLS_ERR_A, -1)
        self.assertEqual(ns["MOJO_TLS_MAX"], 0xFFFFFFFF)
        restype, argtypes = ns["FUNCTIONS"]["mojo_tls_thing_new"]
        self.assertIs(restype, ns["ThingHandle"])
        self.assertEqual(len(argtypes), 2)
        self.assertIn("mojo_tls_thing_read", ns["WIDE_RESULTS"])

    def test_mojo_output_shape(self) -> None:
        src = g.emit_mojo(self.h)
        # Resolved once at load time; each call goes through the cached address
        # as the C function type of the header, arguments converted to it.
        self.assertIn('_c_function[def(Int, Int, c_size_t) thin abi("C") -> c_ssize_t](\n'
                      '            self._lib[].mojo_tls_thing_read', src)
        self.assertIn('    var mojo_tls_thing_read: Int', src)
        self.assertIn('self.mojo_tls_thing_read = _address(self.handle, "mojo_tls_thing_read")', src)
        self.assertIn("f(Int(t), Int(buf), c_size_t(cap))", src)
        self.assertIn("Int32(n)", src)
        self.assertIn("def nothing(self):", src)
        self.assertIn('_c_function[def() thin abi("C") -> NoneType]', src)
        self.assertIn("-> Optional[String]:", src)
        self.assertNotIn("get_function", src)
        # Loading checks every symbol; a wrapper never raises.
        self.assertIn('    "mojo_tls_thing_read",', src)
        # Each handle type is its own struct, so the compiler tells one kind
        # from another (and from a bare Int); a handle result comes back as
        # that struct (NULL: a null one), an array of handles stays an address.
        self.assertIn("struct ThingPtr(\n    TrivialRegisterPassable, Copyable, Movable, Boolable, "
                      "Intable, Equatable, Writable\n):", src)
        self.assertIn("    var addr: Int\n", src)
        self.assertIn("    def null() -> Self:", src)
        self.assertIn("    def __bool__(self) -> Bool:\n", src)
        self.assertNotIn("mojo_tls_thing_ptr", src)
        self.assertNotIn("= Int\n", src)
        self.assertIn("def thing_read(self, t: ThingPtr, buf: Int, cap: Int) -> Int:", src)
        self.assertIn("def thing_new(self, name: Optional[String], n: Int) -> ThingPtr:", src)
        self.assertIn("        return ThingPtr(r)\n", src)
        self.assertIn("def things(self, list: Int, n: Int) -> Int:", src)

    def test_janet_output_shape(self) -> None:
        src = g.emit_janet(self.h)
        self.assertIn("(ffi/defbind mojo-tls-thing-read :ssize", src)
        self.assertIn("[t :ptr buf :ptr cap :size]", src)
        self.assertIn("(ffi/defbind mojo-tls-name :ptr", src)  # nullable char * -> :ptr
        self.assertIn("returns 64-bit", src)

    def test_real_header_parses(self) -> None:
        h = g.parse_header((g.ROOT / g.HEADER).read_text(encoding="utf-8"))
        names = [f.name for f in h.functions]
        for must in ("mojo_tls_config_new", "mojo_tls_conn_read", "mojo_tls_last_error"):
            self.assertIn(must, names)
        self.assertEqual(len(names), len(set(names)))

    def test_no_compat_api(self) -> None:
        # The original shim's void* API lives in include/mojo_tls_compat.h,
        # which the generator does not read: none of it in mojo_tls.h or in
        # the generated files.
        h = g.parse_header((g.ROOT / g.HEADER).read_text(encoding="utf-8"))
        compat = g.parse_header((g.ROOT / "include" / "mojo_tls_compat.h").read_text(encoding="utf-8"))
        compat_names = {f.name for f in compat.functions} | {c.name for c in compat.constants}
        self.assertGreaterEqual(len(compat_names), 50)
        self.assertFalse(compat_names & {f.name for f in h.functions})
        self.assertFalse(compat_names & {c.name for c in h.constants})
        for path, text in g.generate(g.ROOT, g.ROOT / g.HEADER).items():
            for name in ("mojo_tls_sizeof_ssl_context", "mojo_tls_ssl_handshake", "MOJO_TLS_IS_CLIENT"):
                self.assertNotIn(name, text, path)


CALLBACK_SAMPLE = r'''
typedef struct mojo_tls_thing mojo_tls_thing;

/**
 * Called back.
 */
typedef int32_t (*mojo_tls_thing_cb)(void *userdata, struct mojo_tls_thing *t, const char *name);

int32_t mojo_tls_thing_set_cb(struct mojo_tls_thing *t, mojo_tls_thing_cb cb, void *userdata);
'''


class CallbackTypeTest(unittest.TestCase):
    def setUp(self) -> None:
        self.h = g.parse_header(CALLBACK_SAMPLE)

    def test_parsed(self) -> None:
        (cb,) = self.h.callbacks
        self.assertEqual(cb.name, "mojo_tls_thing_cb")
        self.assertEqual(cb.ret, "int32_t")
        self.assertEqual([(p.name, p.ctype, p.handle) for p in cb.params],
                         [("userdata", "void *", None), ("t", "HANDLE *", "mojo_tls_thing"),
                          ("name", "const char *", None)])
        self.assertEqual(cb.doc, "Called back.")
        (fn,) = self.h.functions
        self.assertEqual(fn.params[1].ctype, "mojo_tls_thing_cb")

    def test_python_declares_a_cfunctype(self) -> None:
        ns: dict = {}
        exec(compile(g.emit_python(self.h), "_ffi.py", "exec"), ns)  # noqa: S102
        cbtype = ns["mojo_tls_thing_cb"]
        _, argtypes = ns["FUNCTIONS"]["mojo_tls_thing_set_cb"]
        self.assertIs(argtypes[1], cbtype)
        # The handle arrives as a plain address, the name as bytes.
        seen = []
        fn = cbtype(lambda u, t, n: seen.append((t, n)) or 7)
        self.assertEqual(fn(None, 0x10, b"x"), 7)
        self.assertEqual(seen, [(0x10, b"x")])

    def test_other_languages_pass_an_address(self) -> None:
        for path, emit in g.EMITTERS:
            self.assertTrue(g.function_present(path, emit(self.h), "mojo_tls_thing_set_cb"), path)
        self.assertIn(":ptr", g.emit_janet(self.h))


class CheckModeTest(unittest.TestCase):
    def test_check_detects_stale_and_missing(self) -> None:
        import contextlib
        import io
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "include").mkdir()
            (root / "include" / "mojo_tls.h").write_text(SAMPLE, encoding="utf-8")
            quiet = io.StringIO()
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                self.assertEqual(g.main(["--check", "--root", tmp]), 1)  # nothing generated
                self.assertEqual(g.main(["--root", tmp]), 0)
                self.assertEqual(g.main(["--check", "--root", tmp]), 0)
                # A new function in the header makes every output stale and incomplete.
                (root / "include" / "mojo_tls.h").write_text(
                    SAMPLE + "\nint mojo_tls_added(int x);\n", encoding="utf-8")
                self.assertEqual(g.main(["--check", "--root", tmp]), 1)
            self.assertIn("lacks 1 header function(s): mojo_tls_added", quiet.getvalue())


if __name__ == "__main__":
    unittest.main()
