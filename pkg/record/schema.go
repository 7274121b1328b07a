package record

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of Article, schema version 1.
//
//go:embed article.v1.schema.json
var Schema []byte
