package kafka

import (
	"strconv"
	"time"

	"github.com/wirefeed/wirefeed/pkg/record"
)

// maxErrorHeader bounds the error text kept in a dead letter's header.
const maxErrorHeader = 1024

// DeadLetter wraps a message a stage could not process into a dead letter:
// the original key, bytes and headers, plus headers naming the stage, the
// reason code, the error text and where the message came from, so that it
// can be inspected and replayed to its topic after a fix.
func DeadLetter(m Message, stage, reason string, cause error, now time.Time) Message {
	errText := ""
	if cause != nil {
		errText = cause.Error()
		if len(errText) > maxErrorHeader {
			errText = errText[:maxErrorHeader]
		}
	}
	hs := make([]Header, 0, len(m.Headers)+7)
	for _, h := range m.Headers {
		switch h.Key {
		case record.HeaderDLQReason, record.HeaderDLQError, record.HeaderDLQStage, record.HeaderDLQTopic,
			record.HeaderDLQPartition, record.HeaderDLQOffset, record.HeaderDLQAt:
			continue // a replayed dead letter failing again gets fresh ones
		}
		hs = append(hs, h)
	}
	hs = append(hs,
		Header{Key: record.HeaderDLQStage, Value: []byte(stage)},
		Header{Key: record.HeaderDLQReason, Value: []byte(reason)},
		Header{Key: record.HeaderDLQError, Value: []byte(errText)},
		Header{Key: record.HeaderDLQTopic, Value: []byte(m.Topic)},
		Header{Key: record.HeaderDLQPartition, Value: []byte(strconv.Itoa(m.Partition))},
		Header{Key: record.HeaderDLQOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		Header{Key: record.HeaderDLQAt, Value: []byte(now.UTC().Format(time.RFC3339Nano))},
	)
	return Message{Key: m.Key, Value: m.Value, Headers: hs}
}

// RecordHeaders converts Kafka headers to the record package's form.
func RecordHeaders(hs []Header) []record.Header {
	out := make([]record.Header, len(hs))
	for i, h := range hs {
		out[i] = record.Header{Key: h.Key, Value: string(h.Value)}
	}
	return out
}

// Headers converts the record package's headers to Kafka headers.
func Headers(hs []record.Header) []Header {
	out := make([]Header, len(hs))
	for i, h := range hs {
		out[i] = Header{Key: h.Key, Value: []byte(h.Value)}
	}
	return out
}
