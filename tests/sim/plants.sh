#!/bin/bash
# plants.sh - every planted bug in tests/sim/plants/*.patch must make the
# simulation fail.  Each patch is applied to a copy of the tree in a
# temporary directory (the work tree is never touched), the simulator is
# built there, and run on SEEDS histories (argument 1, default 300).  A
# patch may say which invariant must catch it with a line
#   # expect: INVARIANT
# before its first hunk.  The unplanted tree runs first: while it fails
# already (issue 18's bugs not fixed yet), a plant counts as caught only by
# histories that fail with it and not without it, and this exits 2.
set -u
SEEDS=${1:-300}
JOBS=${SIM_JOBS:-2}
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/agcod-plants.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT

copy() {	# the tracked and new files of the tree, without build outputs
	mkdir -p "$1"
	(cd "$top" && git ls-files -co --exclude-standard -z |
	    tar -cf - --null --no-recursion -T - 2>/dev/null) | tar -xf - -C "$1"
}

run() {		# DIR LOG: build and run the simulator there; the summary line
	make -C "$1" --no-print-directory -s WERROR=1 build/sim/agcod-sim \
	    >"$2.build" 2>&1 || { echo "build failed"; tail -5 "$2.build"; return 2; }
	"$1/build/sim/agcod-sim" --seeds "$SEEDS" --no-shrink --jobs "$JOBS" \
	    >"$2" 2>&1
	local rc=$?
	tail -1 "$2"
	return $rc
}

status=0
echo "sim-plants: the unplanted tree, $SEEDS histories"
copy "$tmp/base"
run "$tmp/base" "$tmp/base.log"
base=$?
if [ $base -ne 0 ]; then
	echo "sim-plants: the unplanted tree fails already: each plant is judged by the histories that fail only with it; exit 2"
	grep '^FAIL' "$tmp/base.log" | head -5
	status=2
fi
n=0
for p in "$top"/tests/sim/plants/*.patch; do
	[ -e "$p" ] || continue
	n=$((n + 1))
	name=$(basename "$p" .patch)
	want=$(sed -n 's/^# expect: *//p' "$p" | head -1)
	d="$tmp/$name"
	copy "$d"
	if ! (cd "$d" && patch -p1 -s --no-backup-if-mismatch <"$p" >/dev/null); then
		echo "plant $name: does not apply"
		status=1
		continue
	fi
	line=$(run "$d" "$tmp/$name.log")
	rc=$?
	# the histories it fails that the unplanted tree passes (or fails
	# otherwise): what the plant alone did
	only=$(grep -h '^FAIL seed' "$tmp/$name.log" | cut -d' ' -f3-5 |
	    grep -vxF -f <(grep -h '^FAIL seed' "$tmp/base.log" | cut -d' ' -f3-5))
	new=$(printf '%s' "$only" | grep -c .)
	# how many of them each invariant caught
	by=$(printf '%s\n' "$only" | awk 'NF { sub(/:$/, "", $3); print $3 }' |
	    sort | uniq -c | sort -rn | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }')
	hit=$(grep -m1 "^FAIL seed .*invariant ${want:-[a-z-]*}:" "$tmp/$name.log" | cut -c1-150)
	if [ $rc -eq 1 ] && [ -n "$hit" ] && { [ $base -eq 0 ] || [ "$new" -gt 0 ]; }; then
		echo "plant $name: caught, $new of $SEEDS histories fail only with it (${by}): $hit"
	else
		echo "plant $name: NOT caught${want:+ by $want} ($new histories fail only with it): $line"
		status=1
	fi
	rm -rf "$d"
done
echo "sim-plants: $n plants"
exit $status
