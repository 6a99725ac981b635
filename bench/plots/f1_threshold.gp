# f1_threshold.gp - pairwise F1 against ground truth as the threshold moves,
# one line per corpus preset.  The data file holds one block per preset,
# separated by two blank lines, each opening with the preset's name:
#   name
#   threshold precision recall f1 ari
# Called by bench/run.sh:
#   gnuplot -e "out='F.png'; data='threshold.dat'; n=5; what='word 3-grams, k = 128'" bench/plots/f1_threshold.gp
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 800,500 font ",11"
} else {
    set terminal png size 800,500
}
set output out
set title sprintf("Pairwise F1 against ground truth (%s)", what)
set xlabel "threshold (Jaccard)"
set ylabel "pairwise F1"
set xrange [0.25:0.95]
set yrange [0:1.02]
set grid
set key left bottom
plot for [i=0:n-1] data index i using 1:4 with linespoints lw 2 pt 7 title columnheader(1)
