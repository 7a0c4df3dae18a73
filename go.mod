module herolink

go 1.26.8
