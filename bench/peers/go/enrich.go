// The Go reference for Feedline's enriched-page benchmark (bench/bench_enrichment.py).
//
// From the same stored rows Feedline reads (activity bodies, user and collection-item JSON by id,
// reaction rows and counts), a Go service written the usual way: decode every stored piece into
// typed structs, resolve the actor/object references and attach the reactions (each with its
// user), then encode the page with encoding/json. Timed per page: decode + enrich + encode.
//
// Input (stdin): {"bodies": [...], "origins": [...], "users": {id: json}, "items": {"coll:id": json},
//                 "counts": [[activity_id, kind, n]], "rows": [[activity_id, kind, slot, id, user_id, body]]}
// Output (stdout): {"typed_us": median, "rounds": n, "bytes": page size}
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type User struct {
	ID        string         `json:"id"`
	Data      map[string]any `json:"data"`
	CreatedAt string         `json:"created_at"`
	UpdatedAt string         `json:"updated_at"`
}

type Item struct {
	ID         string         `json:"id"`
	Collection string         `json:"collection"`
	ForeignID  string         `json:"foreign_id"`
	Data       map[string]any `json:"data"`
	CreatedAt  string         `json:"created_at"`
	UpdatedAt  string         `json:"updated_at"`
}

type Reaction struct {
	ID             string                `json:"id"`
	Kind           string                `json:"kind"`
	ActivityID     string                `json:"activity_id"`
	UserID         string                `json:"user_id"`
	Data           map[string]any        `json:"data"`
	Parent         string                `json:"parent"`
	CreatedAt      string                `json:"created_at"`
	UpdatedAt      string                `json:"updated_at"`
	LatestChildren map[string][]Reaction `json:"latest_children"`
	ChildrenCounts map[string]int        `json:"children_counts"`
	User           any                   `json:"user"`
}

type NotFound struct {
	Error         string `json:"error"`
	Reference     string `json:"reference"`
	ReferenceType string `json:"reference_type"`
	ID            string `json:"id"`
	Collection    string `json:"collection,omitempty"`
}

type StoredActivity struct {
	ID         string   `json:"id"`
	Actor      string   `json:"actor"`
	Verb       string   `json:"verb"`
	Object     string   `json:"object"`
	Target     string   `json:"target"`
	ForeignID  string   `json:"foreign_id"`
	Time       string   `json:"time"`
	Lang       string   `json:"lang"`
	Location   Location `json:"location"`
	Message    string   `json:"message"`
	Popularity int      `json:"popularity"`
	Tags       []string `json:"tags"`
}

type Next struct {
	Next string `json:"next"`
}

type EnrichedActivity struct {
	ID                   string                `json:"id"`
	Actor                any                   `json:"actor"`
	Verb                 string                `json:"verb"`
	Object               any                   `json:"object"`
	Target               string                `json:"target"`
	ForeignID            string                `json:"foreign_id"`
	Time                 string                `json:"time"`
	Lang                 string                `json:"lang"`
	Location             Location              `json:"location"`
	Message              string                `json:"message"`
	Popularity           int                   `json:"popularity"`
	Tags                 []string              `json:"tags"`
	Origin               *string               `json:"origin"`
	LatestReactions      map[string][]Reaction `json:"latest_reactions"`
	LatestReactionsExtra map[string]Next       `json:"latest_reactions_extra"`
	OwnReactions         map[string][]Reaction `json:"own_reactions"`
	ReactionCounts       map[string]int        `json:"reaction_counts"`
}

type EnrichedPage struct {
	Results  []EnrichedActivity `json:"results"`
	Next     string             `json:"next"`
	Duration string             `json:"duration"`
}

type enrichInput struct {
	Bodies  []string          `json:"bodies"`
	Origins []string          `json:"origins"`
	Users   map[string]string `json:"users"`
	Items   map[string]string `json:"items"`
	Counts  [][3]any          `json:"counts"`
	Rows    [][6]any          `json:"rows"`
}

type stored struct {
	bodies  [][]byte
	origins []*string
	users   map[string][]byte
	items   map[string][]byte
	counts  [][3]any
	rows    [][6]any
	rowBody [][]byte
}

func resolve(ref string, users map[string]*User, items map[string]*Item) any {
	switch {
	case strings.HasPrefix(ref, "SU:"):
		if u, ok := users[ref[3:]]; ok {
			return u
		}
		return NotFound{"ReferenceNotFound", ref, "user", ref[3:], ""}
	case strings.HasPrefix(ref, "SO:"):
		if it, ok := items[ref[3:]]; ok {
			return it
		}
		return NotFound{"ReferenceNotFound", ref, "object", ref[3:], ""}
	}
	return ref
}

func enrichPage(in *stored) []byte {
	// typed decode of every stored piece the page needs
	users := make(map[string]*User, len(in.users))
	for id, b := range in.users {
		u := &User{}
		if err := json.Unmarshal(b, u); err != nil {
			panic(err)
		}
		users[id] = u
	}
	items := make(map[string]*Item, len(in.items))
	for id, b := range in.items {
		it := &Item{}
		if err := json.Unmarshal(b, it); err != nil {
			panic(err)
		}
		items[id] = it
	}
	latest := map[string]map[string][]Reaction{}
	own := map[string]map[string][]Reaction{}
	lastID := map[string]string{}
	for i, row := range in.rows {
		r := Reaction{}
		if err := json.Unmarshal(in.rowBody[i], &r); err != nil {
			panic(err)
		}
		r.LatestChildren, r.ChildrenCounts = map[string][]Reaction{}, map[string]int{}
		r.User = resolve("SU:"+r.UserID, users, items)
		aid, kind := row[0].(string), row[1].(string)
		target := latest
		if row[2].(float64) == 1 {
			target = own
		} else {
			lastID[aid+"/"+kind] = r.ID
		}
		if target[aid] == nil {
			target[aid] = map[string][]Reaction{}
		}
		target[aid][kind] = append(target[aid][kind], r)
	}
	counts := map[string]map[string]int{}
	for _, c := range in.counts {
		aid := c[0].(string)
		if counts[aid] == nil {
			counts[aid] = map[string]int{}
		}
		counts[aid][c[1].(string)] = int(c[2].(float64))
	}
	page := EnrichedPage{Results: make([]EnrichedActivity, len(in.bodies)), Next: "/api/v1.0/enrich/feed/timeline/42/?id_lt=x&limit=25", Duration: "1.00ms"}
	for i, b := range in.bodies {
		var a StoredActivity
		if err := json.Unmarshal(b, &a); err != nil {
			panic(err)
		}
		extra := map[string]Next{}
		for kind, rs := range latest[a.ID] {
			next := ""
			if counts[a.ID][kind] > len(rs) {
				next = "/api/v1.0/reaction/activity_id/" + a.ID + "/" + kind + "/?id_lt=" + lastID[a.ID+"/"+kind] + "&limit=5&withOwnChildren=false&user_id=me"
			}
			extra[kind] = Next{next}
		}
		page.Results[i] = EnrichedActivity{
			ID: a.ID, Actor: resolve(a.Actor, users, items), Verb: a.Verb, Object: resolve(a.Object, users, items),
			Target: a.Target, ForeignID: a.ForeignID, Time: a.Time, Lang: a.Lang, Location: a.Location,
			Message: a.Message, Popularity: a.Popularity, Tags: a.Tags, Origin: in.origins[i],
			LatestReactions: latest[a.ID], LatestReactionsExtra: extra, OwnReactions: own[a.ID],
			ReactionCounts: counts[a.ID],
		}
	}
	out, err := json.Marshal(&page)
	if err != nil {
		panic(err)
	}
	return out
}

func enrichMain(quick bool) {
	rounds, n := 31, 100
	if quick {
		rounds, n = 5, 10
	}
	var in enrichInput
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	st := &stored{users: map[string][]byte{}, items: map[string][]byte{}, counts: in.Counts, rows: in.Rows}
	for i, b := range in.Bodies {
		st.bodies = append(st.bodies, []byte(b))
		var o *string
		if in.Origins[i] != "null" {
			var s string
			if err := json.Unmarshal([]byte(in.Origins[i]), &s); err != nil {
				panic(err)
			}
			o = &s
		}
		st.origins = append(st.origins, o)
	}
	// only what the page references, as Feedline's batched look-ups fetch it
	for id, b := range in.Users {
		st.users[id] = []byte(b)
	}
	for id, b := range in.Items {
		st.items[id] = []byte(b)
	}
	for _, r := range in.Rows {
		st.rowBody = append(st.rowBody, []byte(r[5].(string)))
	}
	typedUs, size := bench(rounds, n, func() []byte { return enrichPage(st) })
	fmt.Printf(`{"typed_us": %.3f, "rounds": %d, "bytes": %d}`+"\n", typedUs, rounds, size)
}
