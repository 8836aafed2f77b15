/*
 * pcm-fbdemo: an animated plasma on the Linux framebuffer (/dev/fb0), computed with x87
 * floating point (sin/cos/sqrt).
 *
 *   pcm-fbdemo [frames]          draw on /dev/fb0 (default 200 frames)
 *   pcm-fbdemo --headless N      compute N frames of 320x200 into memory, print a checksum and the
 *                                time taken (an x87 benchmark that needs no framebuffer)
 *
 * The pixel format (bits per pixel, red/green/blue offsets and lengths) comes from
 * FBIOGET_VSCREENINFO; 16, 24 and 32 bits per pixel are drawn.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_FRAMES 200
#define HEADLESS_WIDTH 320
#define HEADLESS_HEIGHT 200
#define PALETTE_SIZE 256

struct pixel_format {
    unsigned bytes_per_pixel;
    struct fb_bitfield red, green, blue;
};

struct surface {
    uint8_t *pixels;
    unsigned width, height, stride;
    struct pixel_format format;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t pack_channel(unsigned value8, const struct fb_bitfield *field)
{
    if (field->length == 0) return 0;
    uint32_t v = field->length >= 8 ? value8 << (field->length - 8) : value8 >> (8 - field->length);
    return v << field->offset;
}

static uint32_t pack_rgb(const struct pixel_format *f, unsigned r, unsigned g, unsigned b)
{
    return pack_channel(r, &f->red) | pack_channel(g, &f->green) | pack_channel(b, &f->blue);
}

static void store_pixel(uint8_t *p, unsigned bytes_per_pixel, uint32_t value)
{
    switch (bytes_per_pixel) {
    case 4: *(uint32_t *)p = value; break;
    case 3: p[0] = value; p[1] = value >> 8; p[2] = value >> 16; break;
    case 2: *(uint16_t *)p = value; break;
    default: *p = value; break;
    }
}

struct plasma {
    unsigned width, height;
    uint32_t palette[PALETTE_SIZE];
    double *column_wave; /* per-frame terms that depend on x only */
    double *row_wave;    /* per-frame terms that depend on y only */
    float *radius;       /* distance of each pixel from the centre, computed once */
};

static int plasma_init(struct plasma *pl, const struct surface *s)
{
    pl->width = s->width;
    pl->height = s->height;
    pl->column_wave = malloc(sizeof(double) * s->width);
    pl->row_wave = malloc(sizeof(double) * s->height);
    pl->radius = malloc(sizeof(float) * s->width * s->height);
    if (!pl->column_wave || !pl->row_wave || !pl->radius) return -1;
    for (unsigned i = 0; i < PALETTE_SIZE; i++) {
        double t = i * (2.0 * M_PI / PALETTE_SIZE);
        unsigned r = (unsigned)(127.5 + 127.5 * sin(t));
        unsigned g = (unsigned)(127.5 + 127.5 * sin(t + 2.0 * M_PI / 3.0));
        unsigned b = (unsigned)(127.5 + 127.5 * cos(t * 2.0));
        pl->palette[i] = pack_rgb(&s->format, r, g, b);
    }
    double cx = s->width / 2.0, cy = s->height / 2.0;
    double scale = 48.0 / (s->width > s->height ? s->width : s->height);
    for (unsigned y = 0; y < s->height; y++)
        for (unsigned x = 0; x < s->width; x++)
            pl->radius[y * s->width + x] = (float)(sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy)) * scale);
    return 0;
}

static void plasma_frame(struct plasma *pl, const struct surface *s, unsigned frame)
{
    double t = frame * 0.07;
    double sx = 16.0 / pl->width, sy = 16.0 / pl->height;
    for (unsigned x = 0; x < pl->width; x++)
        pl->column_wave[x] = sin(x * sx + t) + 0.5 * cos(x * sx * 0.5 - t * 1.3);
    for (unsigned y = 0; y < pl->height; y++)
        pl->row_wave[y] = sin(y * sy * 1.2 - t * 0.8) + 0.5 * cos(y * sy * 0.7 + t * 0.6);
    double phase = sin(t * 0.5) * 4.0;
    for (unsigned y = 0; y < pl->height; y++) {
        uint8_t *row = s->pixels + (size_t)y * s->stride;
        const float *radius = pl->radius + (size_t)y * pl->width;
        double rw = pl->row_wave[y];
        for (unsigned x = 0; x < pl->width; x++) {
            /* the radial term is a parabola approximation of a wave: cheap but still x87 work */
            double r = radius[x] + phase;
            double wrapped = r - 2.0 * floor(r * 0.5) - 1.0; /* in [-1, 1) */
            double radial = 1.0 - 2.0 * wrapped * wrapped;
            double v = pl->column_wave[x] + rw + radial; /* about -4 .. 4 */
            int index = (int)(v * 32.0 + t * 40.0);
            store_pixel(row + x * s->format.bytes_per_pixel, s->format.bytes_per_pixel,
                        pl->palette[index & (PALETTE_SIZE - 1)]);
        }
    }
}

static int run_headless(unsigned frames)
{
    struct surface s = {
        .width = HEADLESS_WIDTH,
        .height = HEADLESS_HEIGHT,
        .stride = HEADLESS_WIDTH * 4,
        .format = { .bytes_per_pixel = 4, .red = { 0, 8, 0 }, .green = { 8, 8, 0 }, .blue = { 16, 8, 0 } },
    };
    s.pixels = calloc(s.height, s.stride);
    struct plasma pl;
    if (!s.pixels || plasma_init(&pl, &s) < 0) {
        fprintf(stderr, "pcm-fbdemo: out of memory\n");
        return 1;
    }
    double start = now_seconds();
    uint32_t checksum = 2166136261u; /* FNV-1a over every frame */
    for (unsigned f = 0; f < frames; f++) {
        plasma_frame(&pl, &s, f);
        for (size_t i = 0; i < (size_t)s.height * s.stride; i++) checksum = (checksum ^ s.pixels[i]) * 16777619u;
    }
    double elapsed = now_seconds() - start;
    printf("pcm-fbdemo headless: %u frames of %ux%u, checksum %08x, %.3f s (%.1f frames/s)\n", frames, s.width,
           s.height, checksum, elapsed, elapsed > 0 ? frames / elapsed : 0.0);
    return 0;
}

static int run_on_framebuffer(unsigned frames)
{
    const char *device = "/dev/fb0";
    int fd = open(device, O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "pcm-fbdemo: %s: %s (try --headless N)\n", device, strerror(errno));
        return 1;
    }
    struct fb_var_screeninfo var;
    struct fb_fix_screeninfo fix;
    if (ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0 || ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0) {
        fprintf(stderr, "pcm-fbdemo: framebuffer ioctl: %s\n", strerror(errno));
        return 1;
    }
    if (fix.type != FB_TYPE_PACKED_PIXELS || fix.visual != FB_VISUAL_TRUECOLOR ||
        (var.bits_per_pixel != 16 && var.bits_per_pixel != 24 && var.bits_per_pixel != 32)) {
        fprintf(stderr, "pcm-fbdemo: unsupported framebuffer: %u bpp, type %u, visual %u\n", var.bits_per_pixel,
                fix.type, fix.visual);
        return 1;
    }
    printf("%s: %s %ux%u, %u bpp, line %u bytes, red %u/%u green %u/%u blue %u/%u\n", device, fix.id, var.xres,
           var.yres, var.bits_per_pixel, fix.line_length, var.red.offset, var.red.length, var.green.offset,
           var.green.length, var.blue.offset, var.blue.length);
    size_t map_size = (size_t)fix.line_length * var.yres_virtual;
    if (fix.smem_len && map_size > fix.smem_len) map_size = fix.smem_len;
    uint8_t *fb = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fb == MAP_FAILED) {
        fprintf(stderr, "pcm-fbdemo: mmap: %s\n", strerror(errno));
        return 1;
    }
    struct surface s = {
        .pixels = fb + (size_t)var.yoffset * fix.line_length + (size_t)var.xoffset * (var.bits_per_pixel / 8),
        .width = var.xres,
        .height = var.yres,
        .stride = fix.line_length,
        .format = { .bytes_per_pixel = var.bits_per_pixel / 8, .red = var.red, .green = var.green, .blue = var.blue },
    };
    struct plasma pl;
    if (plasma_init(&pl, &s) < 0) {
        fprintf(stderr, "pcm-fbdemo: out of memory\n");
        return 1;
    }
    double start = now_seconds();
    for (unsigned f = 0; f < frames; f++) plasma_frame(&pl, &s, f);
    double elapsed = now_seconds() - start;
    printf("pcm-fbdemo: %u frames in %.2f s (%.1f frames/s)\n", frames, elapsed, elapsed > 0 ? frames / elapsed : 0.0);
    munmap(fb, map_size);
    close(fd);
    return 0;
}

static int parse_count(const char *text, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (*text == 0 || *end != 0 || v == 0 || v > 1000000) return -1;
    *out = (unsigned)v;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned frames = DEFAULT_FRAMES;
    if (argc >= 2 && strcmp(argv[1], "--headless") == 0) {
        if (argc != 3 || parse_count(argv[2], &frames) < 0) {
            fprintf(stderr, "usage: pcm-fbdemo --headless FRAMES\n");
            return 2;
        }
        return run_headless(frames);
    }
    if (argc > 2 || (argc == 2 && parse_count(argv[1], &frames) < 0)) {
        fprintf(stderr, "usage: pcm-fbdemo [FRAMES] | pcm-fbdemo --headless FRAMES\n");
        return 2;
    }
    return run_on_framebuffer(frames);
}
