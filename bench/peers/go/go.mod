module feedline.local/bench/peer

go 1.23

require (
	github.com/expr-lang/expr v1.17.8
	github.com/goccy/go-json v0.12.0
)
