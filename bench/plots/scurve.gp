# scurve.gp - probability that two documents become an LSH candidate pair,
# P(s) = 1 - (1 - s^r)^b, for the default layout (b bands of r rows) with the
# threshold t marked.  Called by bench/run.sh:
#   gnuplot -e "out='F.png'; b=25; r=5; t=0.5; k=128" bench/plots/scurve.gp
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 800,500 font ",11"
} else {
    set terminal png size 800,500
}
set output out
P(s, b, r) = 1 - (1 - s**r)**b
set title sprintf("LSH candidate probability: k = %d, %d bands x %d rows, threshold %.2f", k, b, r, t)
set xlabel "similarity s (Jaccard)"
set ylabel "P(candidate)"
set xrange [0:1]
set yrange [0:1.02]
set grid
set key left top
set samples 400
set arrow 1 from t, 0 to t, 1.02 nohead dt 2 lw 2 lc rgb "#cc3311"
set label 1 sprintf(" t = %.2f", t) at t, 0.08 tc rgb "#cc3311"
plot P(x, b, r) lw 3 lc rgb "#0077bb" title sprintf("%d x %d (neardup default)", b, r), \
     P(x, 14, 8) lw 2 dt 3 lc rgb "#777777" title "14 x 8 (datatrove, k = 112)", \
     P(x, 20, 13) lw 2 dt 4 lc rgb "#aaaaaa" title "20 x 13 (NeMo Curator, k = 260)"
