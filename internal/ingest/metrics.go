package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the ingest stage. The source label takes configured source
// ids only; a source removed by a reload has its series deleted.
type metrics struct {
	items    *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	publish  prometheus.Histogram
	pending  *prometheus.GaugeVec
	retries  prometheus.Counter
	lastItem *prometheus.GaugeVec

	updated     *prometheus.CounterVec
	refused     *prometheus.CounterVec
	sourceInfo  *prometheus.GaugeVec
	fetches     *prometheus.CounterVec
	fetchErrors *prometheus.CounterVec
	fetchBytes  *prometheus.CounterVec
	fetchTime   *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	newestAge   *prometheus.GaugeVec
	push        *prometheus.CounterVec
	reloads     *prometheus.CounterVec
	sources     *prometheus.GaugeVec
	owned       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_ingest_items_total",
			Help: "Raw items taken from sources, by source and result (published, duplicate, failed).",
		}, []string{"source", "result"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_ingest_bytes_total",
			Help: "Bytes of raw items published, by source.",
		}, []string{"source"}),
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wirefeed_ingest_publish_duration_seconds",
			Help:    "Time to publish a batch of raw items until the broker acknowledged it.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wirefeed_ingest_spool_pending_files",
			Help: "Files in a spool folder not yet complete (still being written), by source.",
		}, []string{"source"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_ingest_publish_retries_total",
			Help: "Produce requests to the raw topic that failed and were retried.",
		}),
		lastItem: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wirefeed_ingest_last_published_timestamp_seconds",
			Help: "Unix time of the last item published, by source.",
		}, []string{"source"}),
		updated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_ingest_updated_items_total",
			Help: "Items published again as a new version (same key, new fingerprint), by source; also counted as published.",
		}, []string{"source"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_ingest_refused_total",
			Help: "Items refused (also counted as failed), by source and reason (empty, unreadable, too_large).",
		}, []string{"source", "reason"}),
		sourceInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wirefeed_ingest_source_info",
			Help: "1 for every enabled source of the configuration, by source and type (http, spool, push).",
		}, []string{"source", "type"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_ingest_fetches_total",
			Help: "Fetches of http sources, by source and result (ok, not_modified, error).",
		}, []string{"source", "result"}),
		fetchErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_ingest_fetch_errors_total",
			Help: "Failed fetches of http sources, by source and reason (timeout, connect, network, status_4xx, status_429, status_5xx, too_large, redirects, redirect_scheme, read, publish).",
		}, []string{"source", "reason"}),
		fetchBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_ingest_fetch_bytes_total",
			Help: "Bytes of feed documents received from http sources (after decompression), by source.",
		}, []string{"source"}),
		fetchTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wirefeed_ingest_fetch_duration_seconds",
			Help:    "Time of one fetch of an http source, body included, by source.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}, []string{"source"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wirefeed_ingest_last_success_timestamp_seconds",
			Help: "Unix time of the last successful fetch (ok or not_modified) of an http source.",
		}, []string{"source"}),
		newestAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wirefeed_ingest_newest_item_age_seconds",
			Help: "Feed freshness: seconds between the last fetch and the publication date of the feed's newest item, as the feed states it.",
		}, []string{"source"}),
		push: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_ingest_push_requests_total",
			Help: "Requests to the push endpoint, by HTTP status code.",
		}, []string{"code"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_ingest_sources_reloads_total",
			Help: "Reloads of the sources file, by result (ok, error).",
		}, []string{"result"}),
		sources: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wirefeed_ingest_sources",
			Help: "Enabled sources configured, by type.",
		}, []string{"type"}),
		owned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wirefeed_ingest_owned_http_sources",
			Help: "http sources this replica polls (the others belong to other replicas).",
		}),
	}
	reg.MustRegister(m.items, m.bytes, m.publish, m.pending, m.retries, m.lastItem, m.updated, m.refused, m.sourceInfo,
		m.fetches, m.fetchErrors, m.fetchBytes, m.fetchTime, m.lastSuccess, m.newestAge,
		m.push, m.reloads, m.sources, m.owned)
	return m
}

// declare creates the series of a source's counters at 0, so that a
// rate over the first events after a start is not lost. Spool sources keep
// creating theirs on the first event.
func (m *metrics) declare(src *Source) {
	switch src.Type {
	case TypeHTTP:
		for _, r := range []string{"ok", "not_modified", "error"} {
			m.fetches.WithLabelValues(src.ID, r)
		}
		for _, r := range []string{"published", "duplicate", "failed"} {
			m.items.WithLabelValues(src.ID, r)
		}
	case TypePush:
		for _, r := range []string{"published", "duplicate"} {
			m.items.WithLabelValues(src.ID, r)
		}
	}
}

// forget deletes every series of a source that is no longer configured.
func (m *metrics) forget(source string) {
	l := prometheus.Labels{"source": source}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.items, m.bytes, m.pending, m.lastItem, m.updated, m.refused, m.sourceInfo, m.fetches, m.fetchErrors, m.fetchBytes, m.fetchTime, m.lastSuccess, m.newestAge,
	} {
		v.DeletePartialMatch(l)
	}
}
