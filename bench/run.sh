#!/usr/bin/env bash
# sesame's benchmark (budgets of issue 13): start-up cost against direct exec, tini, catatonit and a
# bash file_env entrypoint, for 1 to 10,000 secrets; peak RSS; callgrind instruction
# counts; `check` at 1,000 secrets; the static binary's size. Prints a markdown report
# and writes it to bench/results.md.
#
#   bench/run.sh [N]...          (default: 1 20 100 1000 10000)
#
# Environment: BENCH_RUNS (default 300) and BENCH_WARMUP (default 20) for N <= 1000;
# BENCH_RUNS_LARGE (default 60) and BENCH_WARMUP_LARGE (default 5) for N > 1000, where
# the bash row alone takes a good part of a second a run; BENCH_OUT (default
# bench/results.md). Installs nothing: it says what is missing and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

runs=${BENCH_RUNS:-300}
warmup=${BENCH_WARMUP:-20}
runs_large=${BENCH_RUNS_LARGE:-60}
warmup_large=${BENCH_WARMUP_LARGE:-5}
out=${BENCH_OUT:-$root/bench/results.md}
if (($#)); then sizes=("$@"); else sizes=(1 20 100 1000 10000); fi

# ---- what the benchmark needs --------------------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1: $2"); }
need hyperfine "apt-get install hyperfine"
need tini-static "apt-get install tini (it ships /usr/bin/tini-static)"
need catatonit "apt-get install catatonit"
need valgrind "apt-get install valgrind"
need callgrind_annotate "apt-get install valgrind"
need gcc "apt-get install gcc libc6-dev (libc.a, for gcc -static)"
need cargo "rustup (https://rustup.rs)"
need awk "apt-get install mawk"
need bash "apt-get install bash"
[[ -x /usr/bin/time ]] || missing+=("/usr/bin/time: apt-get install time")
if ((${#missing[@]})); then
    echo "bench/run.sh: missing tools (this script installs nothing):" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
fi

tmp=$(mktemp -d /tmp/sesame-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- builds --------------------------------------------------------------------------
target_dir=${CARGO_TARGET_DIR:-$root/target}
triple=x86_64-unknown-linux-gnu
echo "== building the static release binary (the README's command)" >&2
RUSTFLAGS='-C target-feature=+crt-static' cargo build --quiet --release --target "$triple"
cp "$target_dir/$triple/release/sesame" "$tmp/sesame"
size=$(stat -c %s "$tmp/sesame")

# The same binary with symbols and line tables, for callgrind: the same code (only what
# is kept beside it differs), so the same instruction counts, but callgrind can stop at
# `execve`, and callgrind_annotate can name functions and lines.
# A separate target directory keeps the release binary above untouched.
echo "== building the same binary with symbols (for callgrind)" >&2
CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
    CARGO_TARGET_DIR="$target_dir/bench-symbols" \
    RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build --quiet --release --target "$triple"
cp "$target_dir/bench-symbols/$triple/release/sesame" "$tmp/sesame-symbols"

echo "== building bench/noop.c (gcc -static -O2)" >&2
gcc -static -O2 -o "$tmp/noop" bench/noop.c
echo "== building bench/floor.c (gcc -static -O2)" >&2
gcc -static -O2 -o "$tmp/floor" bench/floor.c

sesame=$tmp/sesame noop=$tmp/noop floor=$tmp/floor
tini=$(command -v tini-static) catatonit=$(command -v catatonit)

# Is `--init` (supervision, SPEC §5.2) implemented? Under it the command's parent is
# sesame; in exec mode sesame has become the command, so its parent is this shell.
bash bench/gen.sh "$tmp/probe" 1
if "$sesame" --init -m "$tmp/probe/manifest-dir.yaml" -d "$tmp/probe/secrets" --log-level error -- \
    /bin/sh -c '[ "$(cat /proc/$PPID/comm)" = sesame ]' 2>/dev/null; then
    have_init=1
else
    have_init=0
    echo "bench/run.sh: this sesame has no working --init; its rows are skipped" >&2
fi

# ---- one case: N secrets --------------------------------------------------------------
# Every command of one N runs in one hyperfine invocation, in the same environment: the
# N `SECRET_nnnnn_FILE` variables are exported for all of them (the X_FILE rows need
# them; the others pass them on, as a container's entrypoint would). The secrets-dir
# rows use `sources: [file]`, so the variables do not change what they read.
# Each command is given as its own words (hyperfine -N splits on spaces); names have
# no commas, since they are read back from hyperfine's CSV.
load_env() { while IFS= read -r kv; do export "${kv?}"; done <"$1/env"; }

row_names=()
row_cmds=()
rows() {
    local n=$1 d=$tmp/n$1
    row_names=("noop (direct exec)"
        "sesame (secrets dir)"
        "sesame (X_FILE)"
        "tini-static -s"
        "catatonit"
        "bash file_env"
        "floor: C reads the files")
    row_cmds=("$noop"
        "$sesame -m $d/manifest-dir.yaml -d $d/secrets -- $noop"
        "$sesame -m $d/manifest-xfile.yaml -- $noop"
        "$tini -s -- $noop"
        "$catatonit -- $noop"
        "bash $root/bench/file_env.sh $d/names $noop"
        "$floor $d/names $d/secrets $noop")
    if ((have_init)); then
        row_names+=("sesame --init (secrets dir)")
        row_cmds+=("$sesame --init -m $d/manifest-dir.yaml -d $d/secrets -- $noop")
    fi
}

# Peak RSS in KiB (`/usr/bin/time -f %M`): the largest of 5 runs. The kernel keeps the
# high-water mark across execve, so exec-mode rows include sesame's own peak.
peak_rss() {
    local max=0 r
    for _ in 1 2 3 4 5; do
        # shellcheck disable=SC2086
        /usr/bin/time -f %M -o "$tmp/rss" $1 >/dev/null 2>&1 || true
        r=$(tail -n1 "$tmp/rss")
        ((r > max)) && max=$r
    done
    echo "$max"
}

# callgrind: instructions sesame executes until it calls execve (the dump is taken
# just before; the no-op after it is not counted).
instructions() {
    local f=$tmp/cg.$RANDOM
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --dump-before=execve --callgrind-out-file="$f" $1 >/dev/null 2>&1 || true
    # With a dump before execve the profile is "$f.1"; without (check) it is "$f".
    [[ -f $f.1 ]] && f=$f.1
    awk '/^summary:/ { print $2 }' "$f" 2>/dev/null || echo "?"
}

for n in "${sizes[@]}"; do
    echo "== generating N=$n" >&2
    bash bench/gen.sh "$tmp/n$n" "$n"
done

declare -A mean median rss
for n in "${sizes[@]}"; do
    rows "$n"
    if ((n > 1000)); then r=$runs_large w=$warmup_large; else r=$runs w=$warmup; fi
    args=()
    for i in "${!row_cmds[@]}"; do args+=(-n "${row_names[$i]}" "${row_cmds[$i]}"); done
    echo "== N=$n: hyperfine, $r runs after $w warm-up runs" >&2
    (
        load_env "$tmp/n$n"
        hyperfine -N --style basic --warmup "$w" --runs "$r" \
            --export-markdown "$tmp/n$n.md" --export-csv "$tmp/n$n.csv" "${args[@]}" >&2
        for i in "${!row_cmds[@]}"; do
            echo "$i $(peak_rss "${row_cmds[$i]}")"
        done >"$tmp/n$n.rss"
    )
    # command,mean,stddev,median,user,system,min,max (seconds)
    while IFS=, read -r name m _ med _; do
        for i in "${!row_names[@]}"; do
            [[ ${row_names[$i]} == "$name" ]] && mean[$n,$i]=$m median[$n,$i]=$med
        done
    done < <(tail -n +2 "$tmp/n$n.csv")
    while read -r i kib; do rss[$n,$i]=$kib; done <"$tmp/n$n.rss"
done

# ---- check at 1,000, callgrind, size ---------------------------------------------------
check_md=""
if [[ -d $tmp/n1000 ]]; then
    echo "== sesame check at N=1000" >&2
    d=$tmp/n1000
    hyperfine -N --style basic --warmup "$warmup" --runs "$runs" --export-markdown "$tmp/check.md" \
        --export-csv "$tmp/check.csv" \
        -n "sesame check (N=1000)" "$sesame check -m $d/manifest-dir.yaml -d $d/secrets" >&2
    check_median=$(awk -F, 'NR == 2 { print $4 }' "$tmp/check.csv")
    check_rss=$(peak_rss "$sesame check -m $d/manifest-dir.yaml -d $d/secrets")
    check_md=$(cat "$tmp/check.md")
fi

echo "== callgrind" >&2
declare -A ir
for n in 20 1000; do
    [[ -d $tmp/n$n ]] || bash bench/gen.sh "$tmp/n$n" "$n"
    d=$tmp/n$n s=$tmp/sesame-symbols
    ir[$n,dir]=$(instructions "$s -m $d/manifest-dir.yaml -d $d/secrets -- $noop")
    ir[$n,xfile]=$(load_env "$d" && instructions "$s -m $d/manifest-xfile.yaml -- $noop")
done
ir[1000,check]=$(instructions "$tmp/sesame-symbols check -m $tmp/n1000/manifest-dir.yaml -d $tmp/n1000/secrets")

# ---- the report -----------------------------------------------------------------------
us() { awk -v s="$1" 'BEGIN { if (s == "") print "–"; else printf "%.0f", s * 1e6 }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1e3 }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo "**yes**"; else echo "**NO**"; fi; }
rows 1

{
    echo "# sesame benchmark results"
    echo
    echo "Produced by \`bench/run.sh ${sizes[*]}\` on $(date -u +%Y-%m-%d) ($(uname -sr)," \
        "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end);" \
        "$(hyperfine --version), $(bash --version | head -n1 | sed 's/ (.*//')," \
        "$(valgrind --version), $(rustc --version | cut -d' ' -f1-2)."
    echo "Runs: $runs after $warmup warm-up runs for N ≤ 1000, $runs_large after $warmup_large above."
    echo "Every row of one N ran in one hyperfine invocation (\`-N\`, no shell), side by side."
    echo
    echo "## Start-up time, µs: median of the runs (the command is a static no-op)"
    echo
    printf '| command |'; for n in "${sizes[@]}"; do printf ' N=%s |' "$n"; done; echo
    printf '|---|'; for _ in "${sizes[@]}"; do printf -- '---:|'; done; echo
    for i in "${!row_names[@]}"; do
        printf '| %s |' "${row_names[$i]}"
        for n in "${sizes[@]}"; do printf ' %s |' "$(us "${median[$n,$i]:-}")"; done
        echo
    done
    ((have_init)) || echo "| sesame --init | not implemented in this build: skipped |"
    echo
    echo "N is the number of secrets. tini, catatonit and the no-op read none; they run in the"
    echo "same environment (the N \`X_FILE\` variables) as the others. Medians, because the"
    echo "machine may be shared: hyperfine's own tables below give mean ± σ, min and max."
    echo
    echo "## Peak RSS, KiB (\`/usr/bin/time -f %M\`, largest of 5 runs)"
    echo
    printf '| command |'; for n in "${sizes[@]}"; do printf ' N=%s |' "$n"; done; echo
    printf '|---|'; for _ in "${sizes[@]}"; do printf -- '---:|'; done; echo
    for i in "${!row_names[@]}"; do
        printf '| %s |' "${row_names[$i]}"
        for n in "${sizes[@]}"; do printf ' %s |' "${rss[$n,$i]:-–}"; done
        echo
    done
    echo
    echo "## Instructions (callgrind, until sesame calls execve)"
    echo
    echo "| case | instructions |"
    echo "|---|---:|"
    echo "| N=20, secrets dir | ${ir[20,dir]} |"
    echo "| N=20, X_FILE | ${ir[20,xfile]} |"
    echo "| N=1000, secrets dir | ${ir[1000,dir]} |"
    echo "| N=1000, X_FILE | ${ir[1000,xfile]} |"
    echo "| \`check\`, N=1000 | ${ir[1000,check]} |"
    echo
    echo "## Budgets (issue 13)"
    echo
    echo "Each sesame row is checked in both modes it is measured in: secrets dir and X_FILE."
    echo
    echo "| budget | measured | met |"
    echo "|---|---|---|"
    # ratio NUM_ROW DEN_ROW N: median of row NUM over median of row DEN at N.
    ratio() { awk "BEGIN { printf \"%.2f\", ${median[$3,$1]} / ${median[$3,$2]} }"; }
    # budget_row N DEN_ROW LIMIT LABEL: both sesame rows against row DEN at N.
    budget_row() {
        local n=$1 den=$2 limit=$3 label=$4 a b
        [[ -n ${median[$n,1]:-} && -n ${median[$n,$den]:-} ]] || return 0
        a=$(ratio 1 "$den" "$n") b=$(ratio 2 "$den" "$n")
        echo "| N=$n: sesame ≤ ${limit}× $label | secrets dir $(us "${median[$n,1]}") µs = ${a}×, X_FILE $(us "${median[$n,2]}") µs = ${b}×; $label $(us "${median[$n,$den]}") µs | $(verdict "$a <= $limit && $b <= $limit") |"
    }
    budget_row 20 6 1.8 "the floor"
    budget_row 20 3 1.4 "tini-static -s"
    budget_row 20 5 0.75 "bash file_env"
    budget_row 1000 5 0.5 "bash file_env"
    budget_row 1000 6 2.5 "the floor"
    echo "| static binary ≤ 2,300,000 bytes | $(printf "%'d" "$size") bytes | $(verdict "$size <= 2300000") |"
    if [[ -n ${rss[1000,1]:-} ]]; then
        echo "| peak RSS ≤ 4 MB at N=1000 | secrets dir ${rss[1000,1]} KiB, X_FILE ${rss[1000,2]} KiB | $(verdict "${rss[1000,1]} * 1024 <= 4000000 && ${rss[1000,2]} * 1024 <= 4000000") |"
    fi
    if [[ -n $check_md ]]; then
        echo "| (reference) \`check\` at N=1000 | $(ms "$check_median") ms (peak RSS $check_rss KiB) | – |"
    fi
    echo
    echo "## hyperfine's tables"
    for n in "${sizes[@]}"; do
        echo
        echo "### N=$n"
        echo
        cat "$tmp/n$n.md"
    done
    if [[ -n $check_md ]]; then
        echo
        echo "### \`sesame check\`, N=1000"
        echo
        echo "$check_md"
    fi
} | sed "s#$tmp/##g" | tee "$out"
