package sink

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/wirefeed/wirefeed/pkg/record"
)

// encoder turns the records of one Parquet object into its bytes, streamed
// to the writer given. The output depends only on the records and the
// compression, so that writing the same batch again after a crash produces
// the same object. (NDJSON objects are compressed as their records arrive:
// chunks.go.)
type encoder struct {
	compression string
	buf         *bufio.Writer
}

func newEncoder(compression string) *encoder {
	return &encoder{compression: compression, buf: bufio.NewWriterSize(nil, 256<<10)}
}

// contentType is the Content-Type of the objects.
func contentType(format, compression string) string {
	switch {
	case format == FormatParquet:
		return "application/vnd.apache.parquet"
	case compression == "gzip":
		return "application/gzip"
	case compression == "zstd":
		return "application/zstd"
	}
	return "application/x-ndjson"
}

// encode writes lines to w as one Parquet object.
func (e *encoder) encode(w io.Writer, lines [][]byte) error {
	e.buf.Reset(w)
	if err := e.parquet(e.buf, lines); err != nil {
		return err
	}
	return e.buf.Flush()
}

func (e *encoder) codec() compress.Codec {
	switch e.compression {
	case "gzip":
		return &parquet.Gzip
	case "zstd":
		return &parquet.Zstd
	}
	return &parquet.Uncompressed
}

// parquetRows is how many rows are converted and written at a time.
const parquetRows = 256

func (e *encoder) parquet(w io.Writer, lines [][]byte) error {
	pw := parquet.NewGenericWriter[ParquetArticle](w, parquet.Compression(e.codec()),
		parquet.CreatedBy("wirefeed sink", "", ""))
	rows := make([]ParquetArticle, 0, parquetRows)
	flush := func() error {
		if _, err := pw.Write(rows); err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
		rows = rows[:0]
		return nil
	}
	for _, l := range lines {
		a, err := record.Unmarshal(l)
		if err != nil {
			return err // validated when fetched: not reached
		}
		rows = append(rows, ToParquet(a))
		if len(rows) == parquetRows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return pw.Close()
}

// ParquetArticle is one row of a Parquet object: the fields of
// record.Article under their JSON names. Times are UTC instants
// (TIMESTAMP, microseconds); the offset a time was written with in the
// record is not kept. Absent optional fields are nulls, absent lists empty.
type ParquetArticle struct {
	SchemaVersion int32            `parquet:"schema_version"`
	ID            string           `parquet:"id"`
	Source        string           `parquet:"source,dict"`
	SourceID      string           `parquet:"source_id,optional"`
	URL           string           `parquet:"url,optional"`
	Format        string           `parquet:"format,dict"`
	Version       int32            `parquet:"version,optional"`
	PubStatus     string           `parquet:"pub_status,optional,dict"`
	Signals       []string         `parquet:"signals,list"`
	Title         string           `parquet:"title"`
	PublishedAt   *time.Time       `parquet:"published_at,optional,timestamp(microsecond)"`
	UpdatedAt     *time.Time       `parquet:"updated_at,optional,timestamp(microsecond)"`
	Dateline      *ParquetDateline `parquet:"dateline,optional"`
	Language      string           `parquet:"language,optional,dict"`
	Byline        string           `parquet:"byline,optional"`
	Subjects      []string         `parquet:"subjects,list"`
	Body          []string         `parquet:"body,list"`
	Captions      []string         `parquet:"captions,list"`
	Fixes         []string         `parquet:"fixes,list"`
	ContentHash   string           `parquet:"content_hash"`
	IngestedAt    *time.Time       `parquet:"ingested_at,optional,timestamp(microsecond)"`
	NormalizedAt  time.Time        `parquet:"normalized_at,timestamp(microsecond)"`
	Raw           *ParquetRawRef   `parquet:"raw,optional"`
}

// ParquetDateline is record.Dateline in a Parquet row.
type ParquetDateline struct {
	Place  string `parquet:"place,optional"`
	Date   string `parquet:"date,optional"`
	Agency string `parquet:"agency,optional"`
}

// ParquetRawRef is record.RawRef in a Parquet row.
type ParquetRawRef struct {
	Topic     string `parquet:"topic"`
	Partition int32  `parquet:"partition"`
	Offset    int64  `parquet:"offset"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// ToParquet converts an article to its Parquet row.
func ToParquet(a *record.Article) ParquetArticle {
	p := ParquetArticle{
		SchemaVersion: int32(a.SchemaVersion), ID: a.ID, Source: a.Source, SourceID: a.SourceID, URL: a.URL,
		Format: a.Format, Version: int32(a.Version), PubStatus: a.PubStatus, Signals: a.Signals, Title: a.Title,
		PublishedAt: optTime(a.PublishedAt), UpdatedAt: optTime(a.UpdatedAt), Language: a.Language, Byline: a.Byline,
		Subjects: a.Subjects, Body: a.Body, Captions: a.Captions, Fixes: a.Fixes, ContentHash: a.ContentHash,
		IngestedAt: optTime(a.IngestedAt), NormalizedAt: a.NormalizedAt.UTC(),
	}
	if d := a.Dateline; d != nil {
		p.Dateline = &ParquetDateline{Place: d.Place, Date: d.Date, Agency: d.Agency}
	}
	if r := a.Raw; r != nil {
		p.Raw = &ParquetRawRef{Topic: r.Topic, Partition: int32(r.Partition), Offset: r.Offset}
	}
	return p
}

// Article converts a Parquet row back to an article (times in UTC).
func (p *ParquetArticle) Article() *record.Article {
	a := &record.Article{
		SchemaVersion: int(p.SchemaVersion), ID: p.ID, Source: p.Source, SourceID: p.SourceID, URL: p.URL,
		Format: p.Format, Version: int(p.Version), PubStatus: p.PubStatus, Signals: p.Signals, Title: p.Title,
		Language: p.Language, Byline: p.Byline, Subjects: p.Subjects, Body: p.Body, Captions: p.Captions,
		Fixes: p.Fixes, ContentHash: p.ContentHash, NormalizedAt: p.NormalizedAt,
	}
	for _, t := range []struct {
		from *time.Time
		to   *time.Time
	}{{p.PublishedAt, &a.PublishedAt}, {p.UpdatedAt, &a.UpdatedAt}, {p.IngestedAt, &a.IngestedAt}} {
		if t.from != nil {
			*t.to = *t.from
		}
	}
	if d := p.Dateline; d != nil {
		a.Dateline = &record.Dateline{Place: d.Place, Date: d.Date, Agency: d.Agency}
	}
	if r := p.Raw; r != nil {
		a.Raw = &record.RawRef{Topic: r.Topic, Partition: int(r.Partition), Offset: r.Offset}
	}
	if a.Body == nil {
		a.Body = []string{}
	}
	return a
}

// ReadParquet reads the articles of a Parquet object.
func ReadParquet(r io.ReaderAt, size int64) ([]*record.Article, error) {
	rows, err := parquet.Read[ParquetArticle](r, size)
	if err != nil {
		return nil, fmt.Errorf("read parquet: %w", err)
	}
	out := make([]*record.Article, len(rows))
	for i := range rows {
		out[i] = rows[i].Article()
	}
	return out, nil
}
