package server

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"studio/db"
	"studio/graph"
)

// metrics are what /metrics exposes to Prometheus: GraphQL operations by
// name and outcome, their latency, the database pool and River's jobs.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// operations are the labels an operation may have: the schema's root
	// fields and "unknown". Anything else is "other", so that no client can
	// add series.
	operations map[string]bool
}

// rootFields are the names of the schema's root fields, introspection's
// included.
func rootFields() map[string]bool {
	names := map[string]bool{"unknown": true, "__typename": true, "__schema": true, "__type": true}
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			names[f.Name] = true
		}
	}
	return names
}

func newMetrics(d *db.DB) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "studio_graphql_operations_total",
			Help: "GraphQL operations by operation (its first root field) and outcome (ok, or the first error's code).",
		}, []string{"operation", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "studio_graphql_operation_seconds",
			Help:    "How long GraphQL operations took, by operation (its first root field).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		operations: rootFields(),
	}
	m.registry.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		d.StatsCollector("studio"), &jobCollector{d: d})
	return m
}

// observe records one operation.
func (m *metrics) observe(operation, outcome string, took time.Duration) {
	if !m.operations[operation] {
		operation = "other"
	}
	m.requests.WithLabelValues(operation, outcome).Inc()
	m.latency.WithLabelValues(operation).Observe(took.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// jobCollector counts River's jobs by kind and state when scraped.
type jobCollector struct{ d *db.DB }

var jobsDesc = prometheus.NewDesc("studio_jobs", "River jobs by kind and state.", []string{"kind", "state"}, nil)

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.d.JobCounts(ctx)
	if err != nil {
		return // the scrape goes on without this metric
	}
	for _, jc := range counts {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(jc.Count), jc.Kind, jc.State)
	}
}
