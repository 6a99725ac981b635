# threads.gp - batch throughput (documents per second, corpus in memory)
# against the number of threads, with linear scaling from one thread (up to
# the core count) drawn for reference.  Data: "threads docs_per_s speedup"
# lines.  Called by
# bench/run.sh:
#   gnuplot -e "out='F.png'; data='threads.dat'; cores=2; what='scale, 20000 docs'" bench/plots/threads.gp
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 800,500 font ",11"
} else {
    set terminal png size 800,500
}
set output out
set title sprintf("Throughput against threads (%s; machine with %d cores)", what, cores)
set xlabel "threads"
set ylabel "documents per second"
set grid
set key right bottom
set logscale x 2
set yrange [0:*]
set arrow 1 from cores, graph 0 to cores, graph 1 nohead dt 2 lc rgb "#cc3311"
plot data using 1:2 with linespoints lw 3 pt 7 lc rgb "#0077bb" title "neardup batch", \
     data using 1:(($1 < cores ? $1 : cores) * $2 / $3) with lines dt 3 lw 2 lc rgb "#777777" title "linear from 1 thread up to the cores"
