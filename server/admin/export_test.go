package admin

import (
	"encoding/csv"
	"testing"
)

// The re-test's full-width ＝1+1 passed the CSV's formula guard; spreadsheets read it as =1+1.
// Every formula character, in any of its forms, and after blank or invisible characters, gets
// a leading '.
func TestCSVFormulaGuard(t *testing.T) {
	e := newEnv(t, 0)
	values := map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)",
		"\uff1d1+1": "'\uff1d1+1", "\uff0b1": "'\uff0b1", "\uff0d1": "'\uff0d1", "\uff20SUM(A1)": "'\uff20SUM(A1)",
		"\ufe661+1": "'\ufe661+1", "\ufe621": "'\ufe621", "\ufe631": "'\ufe631", "\ufe6bSUM(A1)": "'\ufe6bSUM(A1)",
		" =1+1": "' =1+1", "\u3000\uff1d1+1": "'\u3000\uff1d1+1", "\u200b=1+1": "'\u200b=1+1",
		"1001": "1001", "a=b": "a=b", "": "",
	}
	for v := range values {
		r := result(0)
		r.AgentID = v
		e.add(r)
	}
	e.login()
	resp := e.do("GET", "/admin/export.csv", nil)
	records, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(records) != len(values)+1 {
		t.Fatalf("%d records: %v", len(records), err)
	}
	got := map[string]bool{}
	for _, r := range records[1:] {
		got[r[16]] = true
	}
	for v, want := range values {
		if !got[want] {
			t.Errorf("agent id %q: no cell %q in the export", v, want)
		}
	}
}
