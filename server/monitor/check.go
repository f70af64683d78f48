// Package monitor watches every node of the target catalogue from the service: on a schedule it
// checks each node, for each configured Finesse origin and each endpoint of its target, with the
// request a real gadget sends there; it stores the results like the gadget's, opens an incident
// when a check's verdict changes and stays changed, closes it on recovery, and queues the alerts.
// One instance at a time does this (see Leader).
//
// The service checks from its own network. It catches configuration drift on the nodes (an
// origin missing from one node's CORS list after an upgrade); what agents' browsers can reach
// is still what the gadget reports.
package monitor

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// Key names what one check watches: a node's endpoint of a target kind, called from a page of
// one origin. Every field comes from the catalogue or the configured origins, never from a
// request, so the set of keys (and of metric series) is bounded by the configuration.
type Key struct {
	Kind     targets.Kind `json:"kind"`
	Node     string       `json:"node"`
	Origin   string       `json:"origin"`
	Endpoint string       `json:"endpoint"` // the endpoint's name in the catalogue
	URL      string       `json:"url"`
}

func (k Key) String() string { return fmt.Sprintf("%s %s from %s", k.Kind, k.URL, k.Origin) }

func compareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Node, b.Node), cmp.Compare(a.Origin, b.Origin),
		cmp.Compare(a.URL, b.URL), cmp.Compare(a.Endpoint, b.Endpoint))
}

// Check is one check of a round: its key and the request a real gadget sends there.
type Check struct {
	Key
	Request cors.Request
}

// Plan lists the checks of a round: every node of every target, for every origin and every
// endpoint of the target, sorted by key. A key that two targets give (the same node and URL
// under one kind) is checked once, with the first target's request shape.
func Plan(c targets.Catalogue, origins []string) []Check {
	var out []Check
	seen := map[Key]bool{}
	for _, t := range c.Targets {
		for _, node := range t.Nodes {
			urls := t.URLs(node)
			for i, e := range t.Endpoints {
				u, err := url.Parse(urls[i])
				if err != nil {
					continue // a validated catalogue never gets here
				}
				for _, origin := range origins {
					k := Key{Kind: t.Kind, Node: node, Origin: origin, Endpoint: endpointName(e), URL: urls[i]}
					if seen[k] {
						continue
					}
					seen[k] = true
					out = append(out, Check{Key: k, Request: cors.Request{
						URL: u, Origin: origin, Method: t.Request.Method,
						Header: slices.Clone(t.Request.Headers), Credentials: t.Request.Credentials,
					}})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Check) int { return compareKeys(a.Key, b.Key) })
	return out
}

// endpointName is the endpoint's name, or its port and path when it has none.
func endpointName(e targets.Endpoint) string {
	if e.Name != "" {
		return e.Name
	}
	return fmt.Sprintf(":%d%s", e.Port, e.Path)
}
