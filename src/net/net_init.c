/*
 * The built-in address families, registered once before the first stack
 * is made. Explicit calls instead of linker tables: every family here is
 * always linked, and static libraries would drop unreferenced table entries.
 */
void nb_net_init(void);
void nb_vsock_register(void);
void nb_inet_register(void);

void nb_net_init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    nb_vsock_register();
    nb_inet_register();
}
