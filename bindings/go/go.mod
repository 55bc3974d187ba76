module backprop

go 1.19
