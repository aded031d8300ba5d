/*
 * janet_main.c — a minimal `janet` executable around the amalgamated Janet
 * source (janet.c from the evil-janet crate). It does what the official
 * shell's main does, without the line editor: initialise the VM, build the
 * core environment, and run `cli-main` (defined in Janet's boot image: flags,
 * scripts, the REPL, `--install` of bundles) inside the event loop.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "janet.h"

/* The default module path: <prefix>/lib/janet beside <prefix>/bin/janet, as
 * an installed Janet has it. The boot image's own default is the directory
 * of the machine that built the amalgamation. JANET_PATH and -m still win
 * (cli-main applies them afterwards). */
static void set_default_syspath(JanetTable *env, const char *argv0) {
    char exe[PATH_MAX];
    char *slash;
    if (!realpath("/proc/self/exe", exe) && !realpath(argv0, exe)) return;
    slash = strrchr(exe, '/');             /* <prefix>/bin | janet */
    if (!slash) return;
    *slash = '\0';
    slash = strrchr(exe, '/');             /* <prefix> | bin */
    if (slash) *slash = '\0';
    if (strlen(exe) + sizeof("/lib/janet") > sizeof(exe)) return;
    strcat(exe, "/lib/janet");
    janet_table_put(env, janet_ckeywordv("syspath"), janet_cstringv(exe));
}

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
    set_default_syspath(env, argv[0]);

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
