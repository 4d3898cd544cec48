package runner

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-iac/strata/runner/records"
)

// metrics are the server's Prometheus series.
type metrics struct {
	events      *prometheus.CounterVec   // strata_events_total{forge,action,result}
	runs        *prometheus.CounterVec   // strata_runs_total{operation,result}
	runDuration *prometheus.HistogramVec // strata_run_duration_seconds{operation}
	locksHeld   prometheus.Gauge         // strata_locks_held
	// bodiesWaiting: strata_webhook_bodies_waiting
	bodiesWaiting prometheus.Gauge
	verified      *prometheus.CounterVec // strata_apply_verified_total{result}
}

func newMetrics(reg prometheus.Registerer, queueDepth, deadLetters, bodiesReading func() float64) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_events_total",
			Help: "Webhook deliveries by forge, action and result (accepted, duplicate, ignored, unauthorized, refused, bad_request, busy, timeout, error).",
		}, []string{"forge", "action", "result"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_runs_total",
			Help: "Runs by operation (plan, apply, drift) and result (completed, failed, refused, interrupted).",
		}, []string{"operation", "result"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "strata_run_duration_seconds",
			Help:    "Wall time of runs, by operation.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600},
		}, []string{"operation"}),
		locksHeld: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_locks_held",
			Help: "Stack locks held, as of the last lock sweep.",
		}),
		verified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_apply_verified_total",
			Help: "Applies whose stacks were planned again afterwards, by result (verified, not_converged, error).",
		}, []string{"result"}),
	}
	for _, r := range []string{records.VerifyVerified, records.VerifyNotConverged, records.VerifyError} {
		m.verified.WithLabelValues(r)
	}
	m.bodiesWaiting = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "strata_webhook_bodies_waiting",
		Help: "Webhook requests waiting for their turn to have their body read.",
	})
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_queue_depth",
		Help: "Events queued or in progress.",
	}, queueDepth)
	reading := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_webhook_bodies_reading",
		Help: "Webhook bodies being read (at most --webhook-max-bodies).",
	}, bodiesReading)
	dead := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_queue_dead_letters",
		Help: "Events the queue gave up on (the dead letters, SQS's dead-letter queue): each was logged when it moved there.",
	}, deadLetters)
	for _, c := range []prometheus.Collector{m.events, m.runs, m.runDuration, m.locksHeld, m.bodiesWaiting, m.verified, depth, dead, reading} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// runEnded counts a run that ended.
func (m *metrics) runEnded(rec *records.Record) {
	m.runs.WithLabelValues(string(rec.Operation), string(rec.State)).Inc()
	m.runDuration.WithLabelValues(string(rec.Operation)).Observe(rec.EndedAt.Sub(rec.StartedAt).Seconds())
	if rec.Verify != nil {
		m.verified.WithLabelValues(rec.Verify.Result).Inc()
	}
}
