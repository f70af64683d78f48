package gadget

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"
)

// The build lowers syntax to jsTarget but adds no polyfill: a built-in from a later edition
// would ship as it is and fail in a browser the target admits. This list names the built-ins
// of ES2021 and later, with their edition.
var newerBuiltIns = map[string]int{
	".replaceAll(": 2021, "Promise.any(": 2021, "WeakRef": 2021, "FinalizationRegistry": 2021, "AggregateError": 2021,
	"Object.hasOwn(": 2022, ".at(": 2022,
	".findLast(": 2023, ".findLastIndex(": 2023, ".toSorted(": 2023, ".toReversed(": 2023, ".toSpliced(": 2023,
	"Object.groupBy(": 2024, "Map.groupBy(": 2024, "Promise.withResolvers(": 2024, ".isWellFormed(": 2024,
	".toWellFormed(": 2024, "Atomics.waitAsync": 2024,
	".union(": 2025, ".intersection(": 2025, ".symmetricDifference(": 2025, "Iterator.from(": 2025,
	"Promise.try(": 2025, "RegExp.escape(": 2025, "Array.fromAsync(": 2026,
}

var targetYear = map[api.Target]int{api.ES2020: 2020, api.ES2021: 2021, api.ES2022: 2022, api.ES2023: 2023, api.ES2024: 2024}

func TestGadgetUsesNothingNewerThanItsTarget(t *testing.T) {
	year, ok := targetYear[jsTarget]
	if !ok {
		t.Fatalf("jsTarget %v is not in targetYear", jsTarget)
	}
	files, _ := filepath.Glob("*.js")
	catalogs, _ := filepath.Glob("messages/*.js")
	files = append(files, catalogs...)
	if len(files) < 5 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(src), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			for api, edition := range newerBuiltIns {
				if edition > year && strings.Contains(line, api) {
					t.Errorf("%s:%d uses %s (ES%d); the gadget is built for ES%d", f, n+1, strings.Trim(api, ".(:"), edition, year)
				}
			}
		}
	}
}
