//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/wirefeed/wirefeed/internal/demo"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/internal/recordtest"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// expected is what one generated item must become.
type expected struct {
	title, first, published string
}

// generated returns n text-dump items of a fictional agency, named and
// numbered from start, and what each must come out as.
func generated(start, n int) (map[string]string, map[string]expected) {
	items := map[string]string{}
	want := map[string]expected{}
	for i := start; i < start+n; i++ {
		id := fmt.Sprintf("E2E%06d", i)
		title := fmt.Sprintf("Harbour report number %d – “quiet” seas", i)
		first := fmt.Sprintf("Paragraph one of report %d, with an em dash — and a euro sign €.", i)
		body := fmt.Sprintf("URL : https://e2e-wire.example/%d\nID : %s\n\nDate : 2024-06-%02d 09:30:00\nTitle : %s\nArticle :\nHAFENSTADT, June 1 (Coast Wire) -- %s\nSecond paragraph.\n",
			i, id, 1+i%28, mojibake(title), mojibake(first))
		items[fmt.Sprintf("e2e-%06d.txt", i)] = body
		want[id] = expected{title: title, first: first, published: fmt.Sprintf("2024-06-%02dT09:30:00Z", 1+i%28)}
	}
	return items, want
}

// mojibake damages every other item's text the way a windows-1252 reader
// damages UTF-8, so that the repair is exercised end to end.
func mojibake(s string) string {
	r := strings.NewReplacer("–", "â€“", "“", "â€œ", "”", "â€\u009d", "—", "â€”", "€", "â‚¬")
	return r.Replace(s)
}

// samples returns the bundled demo items.
func samples(t *testing.T) map[string]string {
	items := map[string]string{}
	err := fs.WalkDir(demo.Samples, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := demo.Samples.ReadFile(p)
		items[filepath.Base(p)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// archived reads the archive through the S3 API: articles by source ID.
func (p *pipeline) archived() map[string][]*record.Article {
	out := map[string][]*record.Article{}
	for _, o := range p.store.Objects(p.t) {
		for _, l := range o.Lines {
			recordtest.Validate(p.t, l)
			a, err := record.Unmarshal(l)
			if err != nil {
				p.t.Fatalf("%s: %v", o.Key, err)
			}
			out[a.SourceID] = append(out[a.SourceID], a)
		}
	}
	return out
}

// waitArchived polls the archive until it holds n distinct items.
func (p *pipeline) waitArchived(n int, timeout time.Duration) map[string][]*record.Article {
	deadline := time.Now().Add(timeout)
	var got map[string][]*record.Article
	for time.Now().Before(deadline) {
		if got = p.archived(); len(got) >= n {
			return got
		}
		for _, s := range p.procs {
			select {
			case err := <-s.done:
				p.t.Fatalf("%s exited: %v\n%s", s.name, err, tail(s.log))
			default:
			}
		}
		time.Sleep(time.Second)
	}
	p.t.Fatalf("archive holds %d of %d items after %s", len(got), n, timeout)
	return nil
}

// deadLetters reads every dead letter of the pipeline's topic.
func (p *pipeline) deadLetters(want int) map[string]string {
	r := kgo.NewReader(kgo.ReaderConfig{Brokers: strings.Split(os.Getenv("KAFKA_BROKERS"), ","), GroupID: p.dlq + ".reader",
		Topic: p.dlq, StartOffset: kgo.FirstOffset, MaxWait: 500 * time.Millisecond})
	defer r.Close()
	out := map[string]string{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(out) < want {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			p.t.Fatalf("read dead letters (%d of %d): %v", len(out), want, err)
		}
		var origin, reason string
		for _, h := range m.Headers {
			switch h.Key {
			case record.HeaderOrigin:
				origin = string(h.Value)
			case record.HeaderDLQReason:
				reason = string(h.Value)
			}
		}
		out[origin] = reason
	}
	return out
}

func checkGenerated(t *testing.T, got map[string][]*record.Article, want map[string]expected) (dups int) {
	for id, w := range want {
		as := got[id]
		if len(as) == 0 {
			t.Errorf("%s: not in the archive", id)
			continue
		}
		dups += len(as) - 1
		a := as[0]
		if a.Title != w.title || len(a.Body) == 0 || a.Body[0] != w.first || a.PublishedAt.Format(time.RFC3339) != w.published {
			t.Errorf("%s: got title %q, body[0] %q, published %s; want %q, %q, %s",
				id, a.Title, strings.Join(a.Body[:min(1, len(a.Body))], ""), a.PublishedAt.Format(time.RFC3339), w.title, w.first, w.published)
		}
		if a.Dateline == nil || a.Dateline.Place != "HAFENSTADT" {
			t.Errorf("%s: dateline %+v, want place HAFENSTADT", id, a.Dateline)
		}
	}
	return dups
}

// TestSpoolThroughKafkaToS3 drops the bundled samples and generated items in
// the spool, and checks, record by record through the S3 API, what comes out
// of the real Kafka and S3 server; and the dead letters on their topic.
func TestSpoolThroughKafkaToS3(t *testing.T) {
	p := newPipeline(t)
	p.start("sink")
	p.start("normalize")
	p.start("ingest")

	items, want := generated(0, 300)
	p.drop(items)
	p.drop(samples(t))
	got := p.waitArchived(300+21, 3*time.Minute)

	if dups := checkGenerated(t, got, want); dups != 0 {
		t.Errorf("%d duplicate records in the archive after a clean run", dups)
	}
	for id, as := range got {
		if len(as) != 1 {
			t.Errorf("%s archived %d times", id, len(as))
		}
		for _, a := range as {
			text := a.Title + strings.Join(a.Body, " ")
			for _, bad := range []string{"â€", "Ã©", "Ã¶", "â–", "■"} {
				if strings.Contains(text, bad) {
					t.Errorf("%s: text still holds %q", id, bad)
				}
			}
		}
	}
	dl := p.deadLetters(3)
	wantDL := map[string]string{
		"spool:22-meridian-riverbank-trees.txt":     "not_textdump",
		"spool:23-nordkap-eilmeldung-ohne-text.txt": "no_body",
		"spool:24-andes-press-sin-titular.txt":      "missing_title",
	}
	for origin, reason := range wantDL {
		if dl[origin] != reason {
			t.Errorf("dead letter of %s: reason %q, want %q (all: %v)", origin, dl[origin], reason, dl)
		}
	}
	done, _ := os.ReadDir(filepath.Join(p.spool, "done"))
	if len(done) != 300+24 {
		t.Errorf("spool done/ holds %d files, want %d", len(done), 300+24)
	}
	logf(t, "archived %d items through real Kafka into the S3 server; 3 dead letters with their reasons", len(got))
}

// TestBrokerRestartLosesNothing kills the broker (SIGKILL) and restarts it
// in the middle of a run, while items keep arriving, and checks that every
// item reaches the archive.
func TestBrokerRestartLosesNothing(t *testing.T) {
	p := newPipeline(t)
	p.start("sink")
	p.start("normalize")
	p.start("ingest")

	wave1, want := generated(1000, 150)
	p.drop(wave1)
	p.waitArchived(50, 2*time.Minute)

	restart := exec.Command("bash", "../deploy/local/restart-kafka.sh", "--kill")
	out := make(chan error, 1)
	var restartLog strings.Builder
	restart.Stdout, restart.Stderr = &restartLog, &restartLog
	if err := restart.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { out <- restart.Wait() }()
	wave2, want2 := generated(2000, 150)
	p.drop(wave2)
	if err := <-out; err != nil {
		t.Fatalf("restart broker: %v\n%s", err, restartLog.String())
	}
	wave3, want3 := generated(3000, 150)
	p.drop(wave3)
	for k, v := range want2 {
		want[k] = v
	}
	for k, v := range want3 {
		want[k] = v
	}
	got := p.waitArchived(len(want), 4*time.Minute)
	dups := checkGenerated(t, got, want)
	var ids []string
	for id := range got {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	logf(t, "broker killed and restarted mid-run: %d of %d items archived, %d redelivered copies (at-least-once)", len(got), len(want), dups)
}

// TestIncompatibleTopicRefused: a service refuses to start, with a clear
// error, on a topic that exists with another partition count.
func TestIncompatibleTopicRefused(t *testing.T) {
	kc := kafkatest.Config(t, 1)
	raw := kafkatest.Name(t, "raw")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, &kc, kafka.TopicSpec{Name: raw}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, "ingest"), "--kafka.brokers", os.Getenv("KAFKA_BROKERS"), "--kafka.partitions", "3",
		"--topic.raw", raw, "--spool", t.TempDir(), "--http.addr", "")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("ingest started on an incompatible topic; output:\n%s", out)
	}
	if !strings.Contains(string(out), "incompatible") || !strings.Contains(string(out), raw) || !strings.Contains(string(out), "1 partitions") {
		t.Errorf("error does not say what is wrong:\n%s", out)
	}
}
