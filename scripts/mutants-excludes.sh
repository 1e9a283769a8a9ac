# Sourced by scripts/mutants.sh and scripts/mutants-edges.sh (from the repository's root): sets
# `excludes` to one `--exclude-re` per mutant listed in scripts/mutants-equivalent.txt (each
# line's regex, before its two spaces and `#`).
excludes=()
while IFS= read -r line; do
  pattern=${line%%  #*}
  [ -n "${pattern// /}" ] || continue
  [ "${line:0:1}" = "#" ] && continue
  excludes+=(--exclude-re "$pattern")
done < scripts/mutants-equivalent.txt
