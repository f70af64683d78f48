// Package config loads the service's settings from, in order of precedence, command-line flags,
// CORSCHECK_* environment variables and an optional JSON file, and validates them all at once
// so that a bad setting stops the start with a clear message.
package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corsquickcheck/corscheck/server/alert"
	"github.com/corsquickcheck/corscheck/server/cliflag"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/egress"
	"github.com/corsquickcheck/corscheck/server/strictjson"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// Config is the service's configuration.
type Config struct {
	Listen        string        `json:"listen"`
	TLSCert       string        `json:"tlsCert"`
	TLSKey        string        `json:"tlsKey"`
	PublicURL     string        `json:"publicUrl"`
	DataDir       string        `json:"dataDir"`
	DB            string        `json:"db"`      // postgres://… ; empty uses SQLite in DataDir
	Origins       []string      `json:"origins"` // Finesse origins allowed to report results
	AdminPassword string        `json:"adminPassword"`
	Retention     time.Duration `json:"-"`
	RetentionText string        `json:"retention"`
	Targets       string        `json:"targets"`       // catalogue file, stored at start; empty uses the stored one
	AllowNets     []string      `json:"allowNets"`     // address ranges diagnose may reach
	CAFile        string        `json:"caFile"`        // extra CAs the diagnosis trusts (PEM)
	TrustProxy    bool          `json:"trustProxy"`    // take the client address from X-Forwarded-For
	LogFormat     string        `json:"logFormat"`     // text or json
	ResultsRate   float64       `json:"resultsRate"`   // POST /api/v1/results per second per client
	DiagnoseRate  float64       `json:"diagnoseRate"`  // POST /api/v1/diagnose per second per client
	MetricsToken  string        `json:"metricsToken"`  // /metrics wants Authorization: Bearer with it
	MetricsListen string        `json:"metricsListen"` // serve /metrics there instead of on Listen
	// ExplainLimitMB is the largest recording the Explain page and API read.
	ExplainLimitMB int `json:"explainLimitMB"`

	// The scheduled checks (monitor): every catalogue node for every origin and endpoint.
	MonitorInterval    time.Duration `json:"-"` // 0 turns them off
	MonitorIntervalTxt string        `json:"monitorInterval"`
	MonitorJitter      time.Duration `json:"-"` // checks of a round start spread over this
	MonitorJitterTxt   string        `json:"monitorJitter"`
	MonitorTimeout     time.Duration `json:"-"` // per check
	MonitorTimeoutTxt  string        `json:"monitorTimeout"`
	MonitorConcurrency int           `json:"monitorConcurrency"`
	IncidentAfter      int           `json:"incidentAfter"`  // agreeing checks that open or close an incident
	AlertTo            []string      `json:"alertTo"`        // alert receivers (see alert.ParseReceiver)
	AlertAllowNets     []string      `json:"alertAllowNets"` // private ranges alert receivers may be in

	// DiagnoseConcurrency bounds the diagnoses running at once, for all clients together.
	DiagnoseConcurrency int `json:"diagnoseConcurrency"`
}

// Defaults are used for anything not set.
func Defaults() Config {
	return Config{Listen: ":8080", DataDir: "data", Retention: 90 * 24 * time.Hour, LogFormat: "text", ResultsRate: 50, DiagnoseRate: 1,
		MonitorInterval: 5 * time.Minute, MonitorJitter: 30 * time.Second, MonitorTimeout: 10 * time.Second,
		MonitorConcurrency: 16, IncidentAfter: 2, ExplainLimitMB: 50, DiagnoseConcurrency: 8}
}

// setting describes one setting: its flag, its environment variable and where it goes (set is
// nil for durationSettings).
type setting struct {
	name, help string
	set        func(c *Config, v string) error
}

// durationSettings are read by cliflag.ParseDuration, as every duration flag of corscheck is, into
// the field given.
var durationSettings = map[string]func(c *Config) *time.Duration{
	"retention":        func(c *Config) *time.Duration { return &c.Retention },
	"monitor-interval": func(c *Config) *time.Duration { return &c.MonitorInterval },
	"monitor-jitter":   func(c *Config) *time.Duration { return &c.MonitorJitter },
	"monitor-timeout":  func(c *Config) *time.Duration { return &c.MonitorTimeout },
}

// booleanSettings may be given as bare flags (--trust-proxy).
var booleanSettings = map[string]bool{"trust-proxy": true}

// secretSettings may also be read from a file, named by --NAME-file or CORSCHECK_NAME_FILE (the
// convention of containers and of systemd's credentials), so that the secret stays out of the
// command line and the environment.
var secretSettings = []string{"admin-password", "db", "metrics-token", "alert-to"}

// secretKeys are the configuration file's keys of the secretSettings: an error about one of them
// must not quote its value.
var secretKeys = map[string]bool{"adminPassword": true, "db": true, "metricsToken": true, "alertTo": true}

// maxSecretFile bounds a secret's file.
const maxSecretFile = 64 << 10

// readSecret reads a secret's file; the line breaks at its end (CR and LF, any number) are not
// part of the secret, so that an editor's or echo's final newline does not become one.
func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		return "", err
	case len(b) > maxSecretFile:
		return "", fmt.Errorf("%s is larger than %d bytes", path, maxSecretFile)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return v, nil
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var settings = []setting{
	{"listen", "the `address` to listen on (host:port)", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"tls-cert", "TLS certificate `file` (PEM); serve HTTPS with --tls-key", func(c *Config, v string) error { c.TLSCert = v; return nil }},
	{"tls-key", "TLS private key `file` (PEM)", func(c *Config, v string) error { c.TLSKey = v; return nil }},
	{"public-url", "the `URL` agents' browsers use to reach the service", func(c *Config, v string) error { c.PublicURL = v; return nil }},
	{"data-dir", "the `directory` of the embedded SQLite database", func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"db", "a postgres://… `URL`, to use PostgreSQL instead of SQLite", func(c *Config, v string) error { c.DB = v; return nil }},
	{"origins", "comma-separated Finesse `origins` allowed to report results (e.g. https://finesse1.example.com:8445)", func(c *Config, v string) error { c.Origins = list(v); return nil }},
	{"admin-password", "the admin `password` (default: generated at first start and printed once)", func(c *Config, v string) error { c.AdminPassword = v; return nil }},
	{"retention", "how long results are kept (a `duration`, e.g. 2160h); 0 keeps them forever", nil},
	{"targets", "JSON `file` with the target catalogue (default: built-in)", func(c *Config, v string) error { c.Targets = v; return nil }},
	{"allow-nets", "comma-separated address `ranges` the diagnosis may reach (e.g. 10.0.0.0/8); private ranges are refused otherwise", func(c *Config, v string) error { c.AllowNets = list(v); return nil }},
	{"ca-file", "PEM `file` of CAs the diagnosis trusts besides the system's (the CA of CUIC's certificates)", func(c *Config, v string) error { c.CAFile = v; return nil }},
	{"trust-proxy", "take the client address from X-Forwarded-For (only behind a proxy that sets it)", func(c *Config, v string) error {
		switch strings.ToLower(v) {
		case "true", "1", "yes":
			c.TrustProxy = true
		case "false", "0", "no", "":
			c.TrustProxy = false
		default:
			return fmt.Errorf("trust-proxy %q must be true or false", v)
		}
		return nil
	}},
	{"results-rate", "result posts per second (a `rate`) allowed per client address (bursts of 4× pass); raise it when agents share a NAT address", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("results-rate %q is not a number", v)
		}
		c.ResultsRate = f
		return nil
	}},
	{"diagnose-rate", "diagnoses per second (a `rate`) allowed per client address (bursts of 20×); each makes the service call a node", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("diagnose-rate %q is not a number", v)
		}
		c.DiagnoseRate = f
		return nil
	}},
	{"explain-limit", "largest HAR file or console text, in `MB`, that the Explain page and POST /api/v1/explain read", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("explain-limit %q is not a whole number of MB", v)
		}
		c.ExplainLimitMB = n
		return nil
	}},
	{"diagnose-concurrency", "how many diagnoses (a `number`) run at once, for all clients together; more wait up to 2 s, then get 503", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("diagnose-concurrency %q is not a whole number", v)
		}
		c.DiagnoseConcurrency = n
		return nil
	}},
	{"log-format", "log `format`: text or json", func(c *Config, v string) error { c.LogFormat = v; return nil }},
	{"metrics-token", "a `token` /metrics then requires as Authorization: Bearer (default: /metrics is open)", func(c *Config, v string) error { c.MetricsToken = v; return nil }},
	{"metrics-listen", "serve /metrics on this `address` (host:port) instead of on --listen", func(c *Config, v string) error { c.MetricsListen = v; return nil }},
	{"monitor-interval", "how often the service checks every catalogue node itself (a `duration`, e.g. 5m); 0 turns it off", nil},
	{"monitor-jitter", "the checks of a round start spread over this much time (a `duration`, e.g. 30s)", nil},
	{"monitor-timeout", "how long one scheduled check may take (a `duration`, e.g. 10s)", nil},
	{"monitor-concurrency", "how many scheduled checks (a `number`) run at once", intSetting("monitor-concurrency", func(c *Config) *int { return &c.MonitorConcurrency })},
	{"incident-after", "how many agreeing checks in a row (a `number`) open or close an incident", intSetting("incident-after", func(c *Config) *int { return &c.IncidentAfter })},
	{"alert-to", "comma-separated alert `receivers`: https://… (JSON webhook), slack+https://…, teams+https://…, webex+https://…, smtp://user:password@host:587?from=…&to=…", func(c *Config, v string) error { c.AlertTo = list(v); return nil }},
	{"alert-allow-nets", "comma-separated private address `ranges` alert receivers may be in (e.g. 10.0.0.25/32 for a mail relay)", func(c *Config, v string) error { c.AlertAllowNets = list(v); return nil }},
}

// intSetting reads a whole number into the field field picks.
func intSetting(name string, field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%s %q is not a whole number", name, v)
		}
		*field(c) = n
		return nil
	}
}

// EnvName is the environment variable of a setting.
func EnvName(name string) string {
	return "CORSCHECK_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Load reads the configuration. args are the flags after the subcommand. Asked for help (-h,
// --help), it lists the flags on usage, as every corscheck command lists its flags, and returns
// flag.ErrHelp.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() { cliflag.PrintFlags(usage, fs) }
	file := fs.String("config", getenv("CORSCHECK_CONFIG"), "JSON configuration `file` (env CORSCHECK_CONFIG)")
	given := map[string]*flagValue{}
	defaults := defaultTexts()
	for _, s := range settings {
		v := &flagValue{boolean: booleanSettings[s.name]}
		given[s.name] = v
		fs.Var(v, s.name, s.help+" (env "+EnvName(s.name)+")")
		fs.Lookup(s.name).DefValue = defaults[s.name]
		if slices.Contains(secretSettings, s.name) {
			given[s.name+"-file"] = &flagValue{}
			fs.Var(given[s.name+"-file"], s.name+"-file", "`file` holding --"+s.name+" (env "+EnvName(s.name)+"_FILE)")
		}
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c := Defaults()
	var errs []error
	if *file != "" {
		if err := c.loadFile(*file); err != nil {
			return Config{}, err
		}
	}
	// apply sets s from value (when given) or from the file named by path, as set at one level
	// (environment or flags); where and whereFile name them in errors.
	apply := func(s setting, value string, given bool, path, where, whereFile string) {
		if path != "" {
			if given {
				errs = append(errs, fmt.Errorf("%s and %s are both set: set one", where, whereFile))
				return
			}
			v, err := readSecret(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", whereFile, err))
				return
			}
			value, given, where = v, true, whereFile
		}
		switch {
		case !given:
		case durationSettings[s.name] != nil:
			d, err := cliflag.ParseDuration(where, value)
			if err != nil {
				errs = append(errs, err)
			} else {
				*durationSettings[s.name](&c) = d
			}
		default:
			if err := s.set(&c, value); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
		}
	}
	visited := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { visited[f.Name] = true })
	for _, s := range settings {
		env, path := getenv(EnvName(s.name)), ""
		if slices.Contains(secretSettings, s.name) {
			path = getenv(EnvName(s.name) + "_FILE")
		}
		apply(s, env, env != "", path, EnvName(s.name), EnvName(s.name)+"_FILE")
	}
	for _, s := range settings {
		path := ""
		if visited[s.name+"-file"] {
			path = given[s.name+"-file"].value
			if path == "" {
				errs = append(errs, fmt.Errorf("--%s-file is empty", s.name))
				continue
			}
		}
		apply(s, given[s.name].value, visited[s.name], path, "--"+s.name, "--"+s.name+"-file")
	}
	if err := errors.Join(append(errs, c.Validate())...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// flagValue holds a flag's text until Load applies it in order of precedence. A boolean setting
// may be given bare (--trust-proxy).
// defaultTexts are the values of Defaults() by setting name, as the help shows them: a setting's
// configuration file key is its name in camelCase (monitor-interval: monitorInterval), and a
// duration is read from its field.
func defaultTexts() map[string]string {
	d := Defaults()
	b, _ := json.Marshal(d)
	var byKey map[string]any
	_ = json.Unmarshal(b, &byKey)
	texts := map[string]string{}
	for _, s := range settings {
		if field, ok := durationSettings[s.name]; ok {
			texts[s.name] = cliflag.FormatDuration(*field(&d))
			continue
		}
		parts := strings.Split(s.name, "-")
		for i := 1; i < len(parts); i++ {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
		switch v := byKey[strings.Join(parts, "")].(type) {
		case string:
			texts[s.name] = v
		case float64:
			texts[s.name] = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return texts
}

type flagValue struct {
	value   string
	boolean bool
}

func (f *flagValue) String() string     { return f.value }
func (f *flagValue) Set(v string) error { f.value = v; return nil }
func (f *flagValue) IsBoolFlag() bool   { return f.boolean }

func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if err := strictjson.Unmarshal(b, c); err != nil {
		if e, ok := errors.AsType[*strictjson.Error](err); ok && secretKeys[e.Field] && strings.HasPrefix(e.Problem, "invalid ") {
			// A syntax error quotes a character of the text, here of a secret.
			e.Problem = "is not a valid JSON string (the text is not shown: it is a secret)"
		}
		return fmt.Errorf("config file %s: %w", path, err)
	}
	for _, d := range []struct {
		name string
		text string
		to   *time.Duration
	}{
		{"retention", c.RetentionText, &c.Retention},
		{"monitorInterval", c.MonitorIntervalTxt, &c.MonitorInterval},
		{"monitorJitter", c.MonitorJitterTxt, &c.MonitorJitter},
		{"monitorTimeout", c.MonitorTimeoutTxt, &c.MonitorTimeout},
	} {
		if d.text == "" {
			continue
		}
		v, err := cliflag.ParseDuration("config file "+path+": "+d.name, d.text)
		if err != nil {
			return err
		}
		*d.to = v
	}
	return nil
}

// Validate checks every setting and reports every problem.
// named spells the setting an error of Validate starts with as the user may have given it: as a
// flag and as an environment variable (monitor-timeout must … becomes --monitor-timeout
// (CORSCHECK_MONITOR_TIMEOUT) must …).
func named(err error) error {
	msg := err.Error()
	for _, s := range settings {
		rest, ok := strings.CutPrefix(msg, s.name)
		if !ok || rest == "" || !strings.ContainsRune(" :[", rune(rest[0])) {
			continue
		}
		index := "" // alert-to[1]: the second receiver
		if rest[0] == '[' {
			if i := strings.IndexByte(rest, ']'); i > 0 {
				index, rest = rest[:i+1], rest[i+1:]
			}
		}
		return fmt.Errorf("--%s%s (%s)%s", s.name, index, EnvName(s.name), rest)
	}
	return err
}

func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, named(fmt.Errorf(format, a...))) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen %q must be host:port (e.g. :8080)", c.Listen)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls-cert and tls-key go together")
	}
	for _, f := range []string{c.TLSCert, c.TLSKey, c.Targets, c.CAFile} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				bad("%v", err)
			}
		}
	}
	if c.PublicURL != "" {
		if _, err := targets.ParseURL(c.PublicURL); err != nil {
			bad("public-url %q %v", c.PublicURL, err)
		}
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		bad("db must be a postgres:// URL (leave it empty for SQLite in data-dir)")
	}
	if c.DB == "" && c.DataDir == "" {
		bad("data-dir is empty")
	}
	for _, o := range c.Origins {
		if p, err := cors.ParseOrigin(o); err != nil || p != o || p == cors.NullOrigin {
			bad("origins: %q must be exactly scheme://host[:port] (e.g. https://finesse1.example.com:8445)", o)
		}
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 12 {
		bad("admin-password must be at least 12 characters")
	}
	if c.Retention < 0 {
		bad("retention must not be negative")
	}
	if _, err := egress.ParseNets(c.AllowNets); err != nil {
		bad("allow-nets: %v", err)
	}
	if c.ResultsRate <= 0 {
		bad("results-rate must be above 0")
	}
	if c.ExplainLimitMB < 1 || c.ExplainLimitMB > 4096 {
		bad("explain-limit must be 1 to 4096 (MB)")
	}
	if c.DiagnoseRate <= 0 {
		bad("diagnose-rate must be above 0")
	}
	if c.DiagnoseConcurrency < 1 || c.DiagnoseConcurrency > 1000 {
		bad("diagnose-concurrency must be from 1 to 1000")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format must be text or json")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		bad("metrics-token must be at least 16 characters")
	}
	if c.MonitorInterval < 0 || (c.MonitorInterval > 0 && c.MonitorInterval < time.Second) {
		bad("monitor-interval must be 0 (off) or at least 1s")
	}
	if c.MonitorJitter < 0 {
		bad("monitor-jitter must not be negative")
	}
	if c.MonitorTimeout < 100*time.Millisecond || c.MonitorTimeout > time.Minute {
		bad("monitor-timeout must be between 100ms and 1m")
	}
	if c.MonitorConcurrency < 1 || c.MonitorConcurrency > 256 {
		bad("monitor-concurrency must be between 1 and 256")
	}
	if c.IncidentAfter < 1 || c.IncidentAfter > 10 {
		bad("incident-after must be between 1 and 10")
	}
	for i, s := range c.AlertTo {
		if _, err := alert.ParseReceiver(s); err != nil {
			bad("alert-to[%d]: %v", i, err)
		}
	}
	if _, err := egress.ParseNets(c.AlertAllowNets); err != nil {
		bad("alert-allow-nets: %v", err)
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			bad("metrics-listen %q must be host:port (e.g. 127.0.0.1:9090)", c.MetricsListen)
		} else if c.MetricsListen == c.Listen {
			bad("metrics-listen must differ from listen")
		}
	}
	return errors.Join(errs...)
}
