package sink

import "time"

// ManifestVersion is the version of the manifest format.
const ManifestVersion = 1

// Manifest lists what one flush of one partition wrote for one date: at
// PREFIX/dt=DATE/_manifest/TOPIC-pPPP-FIRST-LAST.json. Its objects are whole
// and final when the manifest exists (it is written after them). A date's
// archive is exactly the objects its manifests list; see docs/sink.md for
// when a date is complete.
type Manifest struct {
	ManifestVersion int    `json:"manifest_version"`
	Topic           string `json:"topic"`
	Partition       int    `json:"partition"`
	// FirstOffset and LastOffset bound the batch the flush wrote (all its
	// dates together); its records of this date are in Objects.
	FirstOffset int64            `json:"first_offset"`
	LastOffset  int64            `json:"last_offset"`
	Date        string           `json:"dt"`
	Records     int              `json:"records"`
	Objects     []ManifestObject `json:"objects"`
}

// ManifestObject is one data object of a manifest.
type ManifestObject struct {
	Key         string `json:"key"`
	Format      string `json:"format"`
	Compression string `json:"compression"`
	Records     int    `json:"records"`
	Bytes       int64  `json:"bytes"`
	// FirstOffset and LastOffset are the lowest and highest offset of the
	// object's records (a batch's objects interleave).
	FirstOffset    int64     `json:"first_offset"`
	LastOffset     int64     `json:"last_offset"`
	MinPublishedAt time.Time `json:"min_published_at,omitzero"`
	MaxPublishedAt time.Time `json:"max_published_at,omitzero"`
	MaxIngestedAt  time.Time `json:"max_ingested_at,omitzero"`
}
