# tools/apt-mirror.sh — sourced: debian_mirror prints the URI of the Debian
# archive this machine's apt already uses (one-line sources.list entries and
# deb822 .sources files), so the repository never names a mirror itself.
#
# Security and backports archives are skipped (they do not carry a release's
# main suite). Fails when no Debian archive is configured.
# APT_SOURCE_FILES (or MOJO_TLS_APT_SOURCES) lists the files read.

read -r -a APT_SOURCE_FILES <<<"${MOJO_TLS_APT_SOURCES:-$(
  shopt -s nullglob
  echo /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources
)}"

debian_mirror() {
  local f
  for f in "${APT_SOURCE_FILES[@]}"; do
    [[ -f $f ]] || continue
    awk '
      function consider(uri, suites,    n, i, s) {
        if (uri !~ /^(https?|file|ftp):/) return
        n = split(suites, s, /[ \t]+/)
        for (i = 1; i <= n; i++) {
          # a Debian release suite: bookworm, trixie, stable, bookworm-updates, ...
          if (s[i] ~ /-(security|backports)$/ || s[i] ~ /\/updates$/) continue
          if (s[i] ~ /^(oldstable|stable|testing|unstable|sid|buster|bullseye|bookworm|trixie|forky|duke)(-updates)?$/) {
            print uri; found = 1; exit
          }
        }
      }
      FILENAME ~ /\.sources$/ {
        # deb822 stanzas: Types / URIs / Suites, separated by blank lines
        if ($0 ~ /^[ \t]*$/) { flush(); next }
        if ($0 ~ /^[ \t]*#/) next
        if (tolower($1) == "types:")  { types = $0 }
        if (tolower($1) == "uris:")   { uris = $2 }
        if (tolower($1) == "suites:") { sub(/^[^:]*:[ \t]*/, ""); suites = $0 }
        if (tolower($1) == "enabled:" && tolower($2) == "no") { disabled = 1 }
        next
      }
      /^[ \t]*deb[ \t]/ {
        # one-line form: deb [options] uri suite components...
        line = $0
        sub(/^[ \t]*deb[ \t]+/, "", line)
        if (line ~ /^\[/) sub(/^\[[^]]*\][ \t]*/, "", line)
        split(line, w, /[ \t]+/)
        consider(w[1], w[2])
      }
      function flush() {
        if (!disabled && types ~ /(^|[ \t:])deb([ \t]|$)/ && uris != "") consider(uris, suites)
        types = ""; uris = ""; suites = ""; disabled = 0
      }
      END { if (!found) flush() }
    ' "$f"
  done | head -n 1 | grep .
}
