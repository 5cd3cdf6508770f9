package scenarios

// Suggestions for mistyped names: the closest known name by edit distance,
// as cobra suggests commands, for fields, --set keys and enum values.

import "strings"

// Suggest returns the known name closest to word (case-insensitive edit
// distance at most 2, or at most a third of the word's length when longer),
// or "" when none is close enough; ties go to the first in known. A known
// name that starts with word ("registr" → "register") always qualifies.
func Suggest(word string, known []string) string {
	w := strings.ToLower(word)
	best, bestD := "", -1
	limit := max(2, len(w)/3)
	for _, k := range known {
		kl := strings.ToLower(k)
		d := editDistance(w, kl)
		if len(w) >= 3 && strings.HasPrefix(kl, w) {
			d = min(d, 1)
		}
		if d <= limit && (bestD < 0 || d < bestD) && kl != w {
			best, bestD = k, d
		}
	}
	return best
}

// DidYouMean is Suggest phrased for an error message: "; did you mean
// \"register\"?", or "".
func DidYouMean(word string, known []string) string {
	if s := Suggest(word, known); s != "" {
		return "; did you mean \"" + s + "\"?"
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, by bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
