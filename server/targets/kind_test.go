package targets

import "testing"

func TestParseKind(t *testing.T) {
	for in, want := range map[string]Kind{"cuic": CUIC, " CUIC ": CUIC, "LiveData": LiveData, "finesse": Finesse, "custom": Custom} {
		if got, err := ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "live-data", "ccx"} {
		if _, err := ParseKind(in); err == nil {
			t.Errorf("ParseKind(%q) accepted", in)
		}
	}
}
