/* probe.c: a TCP probe for the namespace tests, IPv4 and IPv6.
 *
 *   vn-probe listen ADDR PORT     accept one connection, write the peer's
 *                                 address to stdout and "virt-nest\n" to
 *                                 the peer, exit 0 (exit 1 after 10 s)
 *   vn-probe connect ADDR PORT    connect (3 s timeout), read the reply,
 *                                 print it, exit 0 if it came
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int
resolve(const char *addr, const char *port, struct sockaddr_storage *ss,
        socklen_t *len)
{
    struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                              .ai_socktype = SOCK_STREAM }, *res;

    if (getaddrinfo(addr, port, &hints, &res) != 0)
        return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int
do_listen(const char *addr, const char *port)
{
    struct sockaddr_storage ss, peer;
    socklen_t len, plen = sizeof(peer);
    char host[INET6_ADDRSTRLEN];
    struct pollfd pfd;
    int one = 1, s, c;

    if (resolve(addr, port, &ss, &len) < 0)
        return 2;
    s = socket(ss.ss_family, SOCK_STREAM, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&ss, len) < 0 || listen(s, 1) < 0) {
        perror("vn-probe: listen");
        return 1;
    }
    printf("listening\n");
    fflush(stdout);
    pfd.fd = s;
    pfd.events = POLLIN;
    if (poll(&pfd, 1, 10000) != 1)
        return 1;
    if ((c = accept(s, (struct sockaddr *)&peer, &plen)) < 0)
        return 1;
    getnameinfo((struct sockaddr *)&peer, plen, host, sizeof(host), NULL, 0,
                NI_NUMERICHOST);
    printf("%s\n", host);
    if (write(c, "virt-nest\n", 10) != 10)
        return 1;
    close(c);
    close(s);
    return 0;
}

static int
do_connect(const char *addr, const char *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    struct pollfd pfd;
    char buf[64];
    ssize_t n;
    int s, err = 0;
    socklen_t elen = sizeof(err);

    if (resolve(addr, port, &ss, &len) < 0)
        return 2;
    s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (connect(s, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)
        return 1;
    pfd.fd = s;
    pfd.events = POLLOUT;
    if (poll(&pfd, 1, 3000) != 1)
        return 1;
    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err) {
        fprintf(stderr, "vn-probe: connect: %s\n", strerror(err));
        return 1;
    }
    pfd.events = POLLIN;
    if (poll(&pfd, 1, 3000) != 1 || (n = read(s, buf, sizeof(buf) - 1)) <= 0)
        return 1;
    buf[n] = '\0';
    fputs(buf, stdout);
    return strcmp(buf, "virt-nest\n") == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "listen") == 0)
        return do_listen(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "connect") == 0)
        return do_connect(argv[2], argv[3]);
    fprintf(stderr, "usage: vn-probe listen|connect ADDR PORT\n");
    return 2;
}
