/*
 * janet_main.c — a minimal `janet` executable around the amalgamated Janet
 * source (janet.c from the evil-janet crate). It does what the official
 * shell's main does, without the line editor: initialise the VM, build the
 * core environment, and run `cli-main` (defined in Janet's boot image: flags,
 * scripts, the REPL, `--install` of bundles) inside the event loop.
 */
#include <stdio.h>
#include "janet.h"

int main(int argc, char **argv) {
    int i, status;
    JanetArray *args;
    JanetTable *env;
    JanetFiber *fiber;
    Janet mainfun;
    Janet mainargs[1];

    janet_init();
    env = janet_core_env(NULL);

    /* cli-main takes the arguments after the program name. */
    args = janet_array(argc);
    for (i = 1; i < argc; i++) {
        janet_array_push(args, janet_cstringv(argv[i]));
    }
    /* (dyn :executable), as the official shell sets it. */
    janet_table_put(env, janet_ckeywordv("executable"), janet_cstringv(argv[0]));

    if (janet_resolve(env, janet_csymbol("cli-main"), &mainfun) != JANET_BINDING_DEF ||
        !janet_checktype(mainfun, JANET_FUNCTION)) {
        fputs("janet: cli-main not found in the core environment\n", stderr);
        janet_deinit();
        return 1;
    }
    mainargs[0] = janet_wrap_array(args);
    fiber = janet_fiber(janet_unwrap_function(mainfun), 64, 1, mainargs);
    janet_gcroot(janet_wrap_fiber(fiber));
    fiber->env = env;

    status = janet_loop_fiber(fiber);
    janet_deinit();
    return status;
}
