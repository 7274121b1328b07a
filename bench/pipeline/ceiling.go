package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/wirefeed/wirefeed/internal/kafka"
)

// ceiling is what the broker takes and gives with a tuned C client, on the
// same payloads and compression as the services.
type ceiling struct {
	produce, consume time.Duration
	produced         int64 // messages on the topic after kcat -P (high watermarks)
	consumed         int64 // messages kcat -C printed
	consumedBytes    int64 // their payload bytes
	// CPU seconds of the broker (0 when its PID is unknown) and of kcat.
	brokerProduceCPU, brokerConsumeCPU float64
	kcatProduceCPU, kcatConsumeCPU     float64
}

// kcatArgs are the settings the services also use: zstd batches, and
// acknowledgement by all in-sync replicas.
var kcatProduceArgs = []string{"-P", "-z", "zstd", "-X", "acks=all", "-D", `\x1e`, "-q"}

// measureCeiling produces the payload file to a fresh topic with kcat, then
// consumes it all back, timing each.
func measureCeiling(ctx context.Context, kc *kafka.Config, topic, payloads string, n, brokerPID int) (ceiling, error) {
	var c ceiling
	if err := kafka.EnsureTopics(ctx, kc, kafka.TopicSpec{Name: topic}); err != nil {
		return c, err
	}
	brokers := kc.Brokers.String()

	in, err := os.Open(payloads)
	if err != nil {
		return c, err
	}
	defer in.Close()
	prod := exec.CommandContext(ctx, "kcat", append([]string{"-b", brokers, "-t", topic}, kcatProduceArgs...)...)
	prod.Stdin = in
	var stderr bytes.Buffer
	prod.Stderr = &stderr
	broker0, _ := procCPU(brokerPID)
	start := time.Now()
	if err := prod.Run(); err != nil {
		return c, fmt.Errorf("kcat -P: %w\n%s", err, stderr.String())
	}
	c.produce = time.Since(start)
	broker1, _ := procCPU(brokerPID)
	c.brokerProduceCPU = broker1 - broker0
	c.kcatProduceCPU = (prod.ProcessState.UserTime() + prod.ProcessState.SystemTime()).Seconds()
	offs, err := kafka.TopicOffsets(ctx, kc.Client(), topic)
	if err != nil {
		return c, err
	}
	for _, o := range offs {
		c.produced += o.HighWatermark
	}
	if c.produced != int64(n) {
		return c, fmt.Errorf("kcat -P: %d messages on %s, want %d\n%s", c.produced, topic, n, stderr.String())
	}

	stderr.Reset()
	cons := exec.CommandContext(ctx, "kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q", "-D", `\x1e`)
	cons.Stderr = &stderr
	out, err := cons.StdoutPipe()
	if err != nil {
		return c, err
	}
	broker0, _ = procCPU(brokerPID)
	if err := cons.Start(); err != nil {
		return c, fmt.Errorf("kcat -C: %w", err)
	}
	msgs, total, firstByte, cerr := countDelimited(out)
	werr := cons.Wait()
	c.consume = time.Since(firstByte)
	broker1, _ = procCPU(brokerPID)
	c.brokerConsumeCPU = broker1 - broker0
	c.kcatConsumeCPU = (cons.ProcessState.UserTime() + cons.ProcessState.SystemTime()).Seconds()
	if cerr != nil || werr != nil {
		return c, fmt.Errorf("kcat -C: %v %v\n%s", cerr, werr, stderr.String())
	}
	c.consumed, c.consumedBytes = msgs, total-msgs
	if c.consumed != int64(n) {
		return c, fmt.Errorf("kcat -C: %d messages read back from %s, want %d", c.consumed, topic, n)
	}
	return c, nil
}

// countDelimited counts the delimiter bytes and all bytes read from r, and
// notes when the first byte came.
func countDelimited(r io.Reader) (delims, total int64, first time.Time, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	buf := make([]byte, 1<<20)
	for {
		n, err := br.Read(buf)
		if n > 0 && first.IsZero() {
			first = time.Now()
		}
		total += int64(n)
		delims += int64(bytes.Count(buf[:n], []byte{sep}))
		if err == io.EOF {
			return delims, total, first, nil
		}
		if err != nil {
			return delims, total, first, err
		}
	}
}
