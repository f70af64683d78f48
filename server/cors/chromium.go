package cors

import "strings"

// This file holds the rules where Chromium and the Fetch standard differ. The verdict follows
// Chromium (the browser Finesse desktops run); each difference is reported as a warning too.
// Every rule here is exercised by the Chromium conformance suite in server/probe, so when a
// Chromium release changes, that suite says which line to correct.

// AuthorizationCoveredByWildcard: the standard says `Access-Control-Allow-Headers: *` never
// covers Authorization; Chromium (observed in 156) lets it cover Authorization for requests
// without credentials and only warns in DevTools.
const AuthorizationCoveredByWildcard = true

// chromiumSafelisted are request headers Chromium treats as CORS-safelisted although the
// standard does not (client hints and headers Chromium adds itself), with the value rule Chromium
// applies (services/network/public/cpp/cors/cors.cc).
var chromiumSafelisted = map[string]func(string) bool{
	"device-memory":  isDecimalNumber,
	"dpr":            isDecimalNumber,
	"width":          allDigits,
	"viewport-width": allDigits,
	"save-data":      func(v string) bool { return strings.EqualFold(v, "on") },
	// Observed in Chromium 156, value rules inferred from the values tried: RTT: 100,
	// Downlink: 1.5, ECT: 4g and Intervention: <https://x>; level="warning" are sent without a
	// preflight.
	"rtt":          allDigits,
	"downlink":     isDecimalNumber,
	"ect":          func(string) bool { return true },
	"intervention": func(string) bool { return true },
}

// isDecimalNumber matches 1*DIGIT [ "." 1*DIGIT ].
func isDecimalNumber(v string) bool {
	i, f, dot := strings.Cut(v, ".")
	return allDigits(i) && (!dot || allDigits(f))
}

// chromiumForbidden are headers the standard lets pages set but Chromium's fetch() still ignores
// (User-Agent: crbug.com/571722), so they never cause a preflight there.
var chromiumForbidden = []string{"user-agent"}
