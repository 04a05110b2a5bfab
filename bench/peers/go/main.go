// The Go reference for Feedline's page assembly benchmark.
//
// Stream moved its feed API from Python to Go; this builds the same feed page from the same stored
// rows with Go's standard encoding/json, two ways:
//   - typed: decode each stored activity into a struct, then encode the page struct;
//   - splice: concatenate the stored bytes into the envelope (what Feedline's core does).
//
// Input (stdin): {"bodies": ["<stored activity JSON>", ...], "origins": ["null" | "\"user:1\"", ...]}
// Output (stdout): {"typed_us": median, "splice_us": median, "rounds": n, "bytes": page size}
//
// `peer enrich [--quick]` is the reference of the enriched-page benchmark instead (enrich.go).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"
)

type Location struct {
	Lat  float64 `json:"lat"`
	Lng  float64 `json:"lng"`
	Name string  `json:"name"`
}

// Activity mirrors the benchmark's stored activities (StoredActivity, in enrich.go: Stream's core
// fields and five custom ones) as a page shows them, with their origin.
type Activity struct {
	StoredActivity
	Origin *string `json:"origin"`
}

type Page struct {
	Results  []Activity `json:"results"`
	Next     string     `json:"next"`
	Duration string     `json:"duration"`
}

type input struct {
	Bodies  []string `json:"bodies"`
	Origins []string `json:"origins"`
}

func typed(bodies [][]byte, origins []*string) []byte {
	page := Page{Results: make([]Activity, len(bodies)), Next: "/api/v1.0/feed/user/42/?id_lt=x&limit=25", Duration: "1.00ms"}
	for i, b := range bodies {
		if err := json.Unmarshal(b, &page.Results[i]); err != nil {
			panic(err)
		}
		page.Results[i].Origin = origins[i]
	}
	out, err := json.Marshal(&page)
	if err != nil {
		panic(err)
	}
	return out
}

func splice(bodies [][]byte, origins [][]byte) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"results":[`)
	for i, b := range bodies {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b[:len(b)-1])
		buf.WriteString(`,"origin":`)
		buf.Write(origins[i])
		buf.WriteByte('}')
	}
	buf.WriteString(`],"next":"/api/v1.0/feed/user/42/?id_lt=x&limit=25","duration":"1.00ms"}`)
	return buf.Bytes()
}

// median of per-op times over rounds of n calls each
func bench(rounds, n int, fn func() []byte) (float64, int) {
	size := 0
	samples := make([]float64, rounds)
	for r := 0; r < rounds; r++ {
		start := time.Now()
		for i := 0; i < n; i++ {
			size = len(fn())
		}
		samples[r] = float64(time.Since(start).Nanoseconds()) / float64(n) / 1000.0
	}
	sort.Float64s(samples)
	return samples[rounds/2], size
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "enrich" {
		enrichMain(len(os.Args) > 2 && os.Args[2] == "--quick")
		return
	}
	rounds, n := 31, 200
	if len(os.Args) > 1 && os.Args[1] == "--quick" {
		rounds, n = 5, 20
	}
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	bodies := make([][]byte, len(in.Bodies))
	rawOrigins := make([][]byte, len(in.Bodies))
	origins := make([]*string, len(in.Bodies))
	for i, b := range in.Bodies {
		bodies[i] = []byte(b)
		rawOrigins[i] = []byte(in.Origins[i])
		if in.Origins[i] != "null" {
			var s string
			if err := json.Unmarshal(rawOrigins[i], &s); err != nil {
				panic(err)
			}
			origins[i] = &s
		}
	}
	typedUs, size := bench(rounds, n, func() []byte { return typed(bodies, origins) })
	spliceUs, _ := bench(rounds, n, func() []byte { return splice(bodies, rawOrigins) })
	fmt.Printf(`{"typed_us": %.3f, "splice_us": %.3f, "rounds": %d, "bytes": %d}`+"\n", typedUs, spliceUs, rounds, size)
}
