/*
 * The raw frame rate of a TAP device, the reference NeoBoot's TCP is
 * measured against (bench/inet/run.sh). It moves 1514-byte Ethernet
 * frames (1500-byte payloads) through the same path NeoBoot uses, with
 * no protocol on top:
 *
 *   tap_pump tx TAP SECONDS   this process writes frames into the TAP fd
 *                             (as NeoBoot sends); an AF_PACKET socket on
 *                             the TAP's Linux side receives and counts them
 *   tap_pump rx TAP SECONDS   an AF_PACKET socket on the TAP's Linux side
 *                             transmits frames; this process reads them
 *                             from the TAP fd (as NeoBoot receives)
 *
 * Either way a frame crosses from a process on one side to a process on
 * the other. Prints "R MiB/s (frames N in S s)" for frames that arrived
 * (payload MiB/s: 1500 bytes per frame, like a full TCP segment's packet).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME 1514

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_tap(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        perror("/dev/net/tun");
        exit(1);
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        perror("TUNSETIFF");
        exit(1);
    }
    return fd;
}

static void frame(uint8_t *f)
{
    memset(f, 0, FRAME);
    /* to a MAC nobody has, from a locally administered one: the kernel
     * drops it after the Ethernet layer, as cheap as it gets */
    uint8_t dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x88; /* local experimental ethertype 0x88b5 */
    f[13] = 0xb5;
}

static volatile int stop;
static const char *g_tap;

/* A raw packet socket and the TAP's link-layer address (protocol: network
 * order, 0 for a sender that receives nothing). Exits on failure. */
static int packet_socket(uint16_t protocol, struct sockaddr_ll *ll)
{
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (s < 0) {
        perror("AF_PACKET");
        exit(1);
    }
    memset(ll, 0, sizeof *ll);
    ll->sll_family = AF_PACKET;
    ll->sll_protocol = protocol;
    ll->sll_ifindex = (int)if_nametoindex(g_tap);
    return s;
}

static void *sender(void *arg)
{
    (void)arg;
    struct sockaddr_ll ll;
    int s = packet_socket(0, &ll);
    ll.sll_halen = 6;
    uint8_t f[FRAME];
    frame(f);
    while (!stop) {
        if (sendto(s, f, FRAME, 0, (struct sockaddr *)&ll, sizeof ll) < 0 &&
            errno != ENOBUFS && errno != EAGAIN) {
            perror("sendto");
            exit(1);
        }
    }
    close(s);
    return NULL;
}

static volatile int counter_ready;
static volatile uint64_t counted;

/* tx: the receiving side, in the kernel's view of the TAP */
static void *counter(void *arg)
{
    (void)arg;
    struct sockaddr_ll ll;
    int s = packet_socket(htons(ETH_P_ALL), &ll);
    if (bind(s, (struct sockaddr *)&ll, sizeof ll) != 0) {
        perror("bind AF_PACKET");
        exit(1);
    }
    int big = 64 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    struct timeval tv = {0, 100000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t b[2048];
    counter_ready = 1;
    while (!stop) {
        ssize_t n = recv(s, b, sizeof b, 0);
        if (n == FRAME)
            counted++;
    }
    close(s);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "tx") && strcmp(argv[1], "rx"))) {
        fprintf(stderr, "usage: tap_pump tx|rx TAP SECONDS\n");
        return 2;
    }
    g_tap = argv[2];
    double secs = atof(argv[3]);
    int fd = open_tap(argv[2]);
    uint8_t f[FRAME + 64];
    uint64_t frames = 0, bytes = 0;
    double t0 = now(), t1;
    if (argv[1][0] == 't') {
        pthread_t th;
        pthread_create(&th, NULL, counter, NULL);
        frame(f);
        while (!counter_ready)
            usleep(1000);
        t0 = now();
        do {
            for (int i = 0; i < 256; i++)
                if (write(fd, f, FRAME) != FRAME)
                    break;
            t1 = now();
        } while (t1 - t0 < secs);
        stop = 1;
        pthread_join(th, NULL);
        frames = counted;
    } else {
        pthread_t th;
        pthread_create(&th, NULL, sender, NULL);
        t0 = now();
        do {
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) {
                t1 = now();
                continue;
            }
            for (int i = 0; i < 64; i++) {
                ssize_t n = read(fd, f, sizeof f);
                if (n <= 0)
                    break;
                if (n == FRAME) {
                    frames++;
                    bytes += (uint64_t)n;
                }
            }
            t1 = now();
        } while (t1 - t0 < secs);
        stop = 1;
        pthread_join(th, NULL);
    }
    double dt = t1 - t0;
    (void)bytes;
    printf("%.1f MiB/s (frames %llu in %.2f s)\n", (double)frames * 1500 / dt / 1048576.0,
           (unsigned long long)frames, dt);
    return 0;
}
