/*
 * pcm-fpbench: a small x87 double-precision benchmark: a Mandelbrot set count and an n-body
 * (Jovian planets) simulation; prints the results (deterministic) and the elapsed time.
 *
 *   pcm-fpbench [scale]    scale 1..100 multiplies the work (default 1)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MANDEL_SIZE 128
#define MANDEL_MAX_ITER 200
#define NBODY_STEPS 2000
#define SOLAR_MASS (4.0 * M_PI * M_PI)
#define DAYS_PER_YEAR 365.24

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sum of escape iterations over a MANDEL_SIZE^2 grid of [-2, 0.5] x [-1.25, 1.25]. */
static unsigned long mandelbrot(void)
{
    unsigned long total = 0;
    for (int py = 0; py < MANDEL_SIZE; py++) {
        double ci = -1.25 + 2.5 * py / MANDEL_SIZE;
        for (int px = 0; px < MANDEL_SIZE; px++) {
            double cr = -2.0 + 2.5 * px / MANDEL_SIZE;
            double zr = 0, zi = 0;
            int i = 0;
            while (i < MANDEL_MAX_ITER && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                i++;
            }
            total += i;
        }
    }
    return total;
}

struct body { double x, y, z, vx, vy, vz, mass; };

static void init_bodies(struct body b[5])
{
    const struct body initial[5] = {
        { 0, 0, 0, 0, 0, 0, SOLAR_MASS },
        { 4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
          1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
          -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS },
        { 8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
          -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
          2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS },
        { 1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
          2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
          -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS },
        { 1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
          2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
          -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS },
    };
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < 5; i++) {
        b[i] = initial[i];
        px += b[i].vx * b[i].mass;
        py += b[i].vy * b[i].mass;
        pz += b[i].vz * b[i].mass;
    }
    b[0].vx = -px / SOLAR_MASS;
    b[0].vy = -py / SOLAR_MASS;
    b[0].vz = -pz / SOLAR_MASS;
}

static double energy(const struct body b[5])
{
    double e = 0;
    for (int i = 0; i < 5; i++) {
        e += 0.5 * b[i].mass * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < 5; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            e -= b[i].mass * b[j].mass / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void advance(struct body b[5], double dt)
{
    for (int i = 0; i < 5; i++) {
        for (int j = i + 1; j < 5; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            b[i].vx -= dx * b[j].mass * mag;
            b[i].vy -= dy * b[j].mass * mag;
            b[i].vz -= dz * b[j].mass * mag;
            b[j].vx += dx * b[i].mass * mag;
            b[j].vy += dy * b[i].mass * mag;
            b[j].vz += dz * b[i].mass * mag;
        }
    }
    for (int i = 0; i < 5; i++) {
        b[i].x += dt * b[i].vx;
        b[i].y += dt * b[i].vy;
        b[i].z += dt * b[i].vz;
    }
}

int main(int argc, char **argv)
{
    int scale = 1;
    if (argc > 1) {
        char *end;
        long v = strtol(argv[1], &end, 10);
        if (argc > 2 || *end || v < 1 || v > 100) {
            fprintf(stderr, "usage: pcm-fpbench [scale 1..100]\n");
            return 2;
        }
        scale = (int)v;
    }
    double start = now_seconds();
    unsigned long iterations = 0;
    for (int r = 0; r < scale; r++) iterations = mandelbrot();
    double mandel_time = now_seconds() - start;

    struct body bodies[5];
    init_bodies(bodies);
    double e0 = energy(bodies);
    double nbody_start = now_seconds();
    for (int s = 0; s < NBODY_STEPS * scale; s++) advance(bodies, 0.01);
    double e1 = energy(bodies);
    double nbody_time = now_seconds() - nbody_start;

    printf("mandelbrot %dx%d max %d: %lu iterations (%.3f s)\n", MANDEL_SIZE, MANDEL_SIZE, MANDEL_MAX_ITER,
           iterations, mandel_time);
    printf("n-body %d steps: energy %.9f -> %.9f (%.3f s)\n", NBODY_STEPS * scale, e0, e1, nbody_time);
    printf("pcm-fpbench: total %.3f s\n", mandel_time + nbody_time);
    return 0;
}
