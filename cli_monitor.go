package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/corsquickcheck/corscheck/server/alert"
	"github.com/corsquickcheck/corscheck/server/config"
	"github.com/corsquickcheck/corscheck/server/egress"
	"github.com/corsquickcheck/corscheck/server/monitor"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// monitoring is the service's scheduled checks, incidents and alerts: the leader election, and
// under it the monitor and the alert dispatcher, plus the gauges and /probe every instance
// serves.
type monitoring struct {
	leader   *monitor.Leader
	monitor  *monitor.Monitor
	dispatch *alert.Dispatcher
	sender   *alert.Sender
	prober   *probe.Prober
	metrics  *monitor.Metrics
	probe    http.Handler
	interval time.Duration
	log      *slog.Logger
	stop     context.CancelFunc // set by start
	done     chan struct{}      // closed once what start started has ended
}

// leaseName is the lease of the instance that runs the schedule.
const leaseName = "monitor"

// installKey holds the random name of this database that alerts' idempotency keys carry.
const installKey = "install_id"

// newMonitoring sets the monitoring up; start starts it. The monitor's checks pass the same
// egress guard as the diagnosis (the catalogue's hosts), and alerts a guard of their own (the
// receivers' hosts).
func newMonitoring(ctx context.Context, cfg config.Config, st store.Store, live *targets.Live, guard *egress.Policy,
	roots *x509.CertPool, log *slog.Logger) (*monitoring, error) {
	var receivers []alert.Receiver
	for _, s := range cfg.AlertTo {
		r, err := alert.ParseReceiver(s)
		if err != nil {
			return nil, err
		}
		receivers = append(receivers, r)
	}
	alertNets, err := egress.ParseNets(cfg.AlertAllowNets)
	if err != nil {
		return nil, err
	}
	install, err := st.InitSetting(ctx, installKey, hex.EncodeToString([]byte(rand.Text())[:4]))
	if err != nil {
		return nil, err
	}
	m := &monitoring{interval: cfg.MonitorInterval, log: log, done: make(chan struct{})}
	m.prober = probe.New(probe.Options{Timeout: cfg.MonitorTimeout, DialContext: guard.DialContext, RootCAs: roots})
	checks := func() []monitor.Check { return monitor.Plan(live.Get(), cfg.Origins) }
	m.probe = monitor.NewProbeHandler(checks, m.prober, cfg.MonitorTimeout, cfg.MonitorConcurrency)
	// Every instance takes part in the election, so every one can say whether it leads.
	ttl := min(max(cfg.MonitorInterval/2, time.Second), 30*time.Second)
	m.leader = monitor.NewLeader(st, leaseName, ttl, log)
	m.metrics = monitor.NewMetrics(m.leader.Leading)
	if cfg.MonitorInterval <= 0 {
		return m, nil
	}
	m.sender = alert.NewSender(alert.SenderOptions{Guard: alert.Guard(receivers, alertNets), RootCAs: roots,
		Hostname: mailName(cfg.PublicURL)})
	m.dispatch = alert.NewDispatcher(alert.DispatcherConfig{Outbox: st, Sender: m.sender, Receivers: receivers,
		Install: install, PublicURL: cfg.PublicURL, Logger: log})
	m.monitor = monitor.New(monitor.Config{
		Store: st, Checker: m.prober, After: cfg.IncidentAfter, Plan: checks,
		Schedule: monitor.Schedule{Interval: cfg.MonitorInterval, Spread: cfg.MonitorJitter,
			Concurrency: cfg.MonitorConcurrency, Timeout: cfg.MonitorTimeout},
		Receivers: alert.StoreReceivers(receivers), Queued: m.dispatch.Nudge, Metrics: m.metrics, Logger: log,
	})
	if len(cfg.Origins) == 0 {
		log.Warn("monitor: no Finesse origins configured (--origins): the scheduled checks have nothing to check")
	}
	if len(receivers) == 0 {
		log.Info("monitor: no alert receivers (--alert-to): incidents show in the admin UI and the log only")
	}
	return m, nil
}

// mailName names this service to mail servers: the public URL's host, or the machine's name.
func mailName(publicURL string) string {
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return ""
}

// start runs the election, and the checks and deliveries while this instance leads, until
// Close. With the monitor off, it does nothing.
func (m *monitoring) start() {
	ctx, stop := context.WithCancel(context.Background())
	m.stop = stop
	if m.monitor == nil {
		close(m.done)
		return
	}
	m.log.Info("monitor: scheduled checks on", "interval", m.interval)
	go func() {
		defer close(m.done)
		m.leader.Run(ctx, func(ctx context.Context) {
			dispatched := make(chan struct{})
			go func() {
				defer close(dispatched)
				m.dispatch.Run(ctx)
			}()
			m.monitor.Run(ctx)
			<-dispatched
		})
	}()
}

// Close stops the checks and deliveries (the lease is released) and closes the connections.
func (m *monitoring) Close() {
	if m.stop != nil {
		m.stop()
		<-m.done
	}
	m.prober.Close()
	if m.sender != nil {
		m.sender.Close()
	}
}
