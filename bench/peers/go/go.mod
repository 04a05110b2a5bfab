module feedline.local/bench/peer

go 1.21
