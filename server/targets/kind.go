package targets

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is a target kind: which product answers at the URL.
type Kind string

// The target kinds.
const (
	CUIC     Kind = "cuic"
	LiveData Kind = "livedata"
	Finesse  Kind = "finesse"
	Custom   Kind = "custom"
)

// Kinds lists the kinds in the order users see them.
var Kinds = []Kind{CUIC, LiveData, Finesse, Custom}

// ParseKind accepts a kind name.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Kinds, k) {
		return k, nil
	}
	return "", fmt.Errorf("kind %q must be one of cuic, livedata, finesse, custom", s)
}
