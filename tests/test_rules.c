/*
 * test_rules.c - the clustering rules of the batch engine, each pinned on a
 * small hand-written news case through the public API with the default
 * parameters: the figure check (a typo is not a new story, a template
 * report with other figures is), page furniture, the attach clustering
 * (fillers, stubs, digests, galleries, truncated reprints), boilerplate
 * counted once per group of copies, and clusters that do not depend on the
 * thread count.
 *
 * Stories are arrays of paragraphs; a page is some of them joined, with a
 * headline, a byline or page chrome around them.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/neardup.h"

/* ------------------------------------------------------------ the stories */

/* A: island ferry timetable cut. */
static const char *const ferry[] = {
    "Ferry services between Portmere and the Calloway Islands will be cut "
    "from three sailings a day to one from next month, the regional "
    "transport authority announced on Tuesday, blaming a shortage of "
    "qualified engineers and the late return of the vessel Northern Star "
    "from its refit.",
    "The authority said the reduced timetable would remain in place until "
    "at least the end of October. Islanders, who rely on the crossing for "
    "hospital appointments, school runs and deliveries of fresh food, "
    "reacted with anger at a public meeting in the island hall on Tuesday "
    "evening.",
    "\"We were promised a reliable service when the new contract was "
    "signed, and instead we are back to queuing on the pier at dawn,\" said "
    "Morag Lindqvist, who runs the island's only grocery shop. \"People will "
    "leave if this goes on.\"",
    "A spokesman for the operator, Westwater Marine, said the company had "
    "advertised for engineers for months without success and was now "
    "offering higher pay to attract staff from the offshore industry. He "
    "said passengers with medical appointments would be given priority "
    "boarding.",
    "Local councillors have written to the transport minister asking for an "
    "emergency charter vessel to be brought in over the summer, when visitor "
    "numbers on the islands normally triple.",
    NULL};

/* B: library roof fire. */
static const char *const library[] = {
    "A fire that broke out in the roof of the Hallam Street public library "
    "late on Sunday night destroyed much of the building's local history "
    "collection, including parish records dating back to the seventeenth "
    "century and the only surviving plans of the old cathedral, the city's "
    "fire service said on Monday.",
    "Six fire engines and around forty firefighters were called to the "
    "blaze shortly before midnight. Nobody was inside the building at the "
    "time and no injuries were reported. Crews remained at the scene "
    "throughout the morning to damp down hot spots.",
    "Investigators said it was too early to say what had caused the fire, "
    "but confirmed that contractors had been working on the roof last week "
    "to replace lead flashing. The library had been due to reopen in "
    "September after a two-year renovation.",
    "Librarian Joan Achterberg said staff were devastated. \"Some of those "
    "documents cannot be replaced. We had started scanning them, but we "
    "were only about a third of the way through,\" she said. The council "
    "said it would open a temporary lending service in the town hall.",
    NULL};

/* The statement two health stories quote word for word. */
static const char *const statement =
    "The risk to the general public remains very low, and there is no need "
    "for anyone to change their travel plans or daily routine at this "
    "stage. We will keep monitoring the situation closely and will publish "
    "new advice as soon as it becomes necessary.";

/* X: measles cases at a school. */
static const char *const measles[] = {
    "Health officials have confirmed a cluster of measles cases linked to a "
    "primary school in the northern suburb of Elmbridge, where several "
    "pupils fell ill after a class trip to a city museum earlier this "
    "month.",
    "Parents at the school received letters on Wednesday urging them to "
    "check that their children's vaccinations were up to date. A walk-in "
    "clinic will open in the school gymnasium on Saturday morning for "
    "anyone who has missed a dose.",
    "Doctors said measles spreads very easily in classrooms and that the "
    "first signs, a fever, a cough and red eyes, often appear before the "
    "rash. Children with symptoms were asked to stay at home and to call "
    "their family doctor rather than visit a surgery in person.",
    "The regional health department said in a statement:",
    NULL};

/* Y: bird flu on poultry farms. */
static const char *const birdflu[] = {
    "Avian influenza has been found on two poultry farms near the market "
    "town of Stanwick, and all birds on both sites will be culled to stop "
    "the virus from spreading, agriculture officials said on Thursday.",
    "A protection zone of three kilometres has been set up around the "
    "farms, and keepers of chickens, ducks and geese within it must house "
    "their birds indoors and keep records of every vehicle and visitor "
    "that enters their land.",
    "Farmers in the area said they feared for their livelihoods so close to "
    "the busy Christmas season, when demand for turkeys and geese is at "
    "its highest. Compensation is paid for healthy birds culled under the "
    "rules, but not for lost trade.",
    "Asked whether people should worry about catching the disease, a "
    "spokeswoman for the health agency repeated its earlier statement:",
    NULL};

/* Z: a harbour bridge closure (its short teaser is a stub). */
static const char *const bridge[] = {
    "The Old Harbour swing bridge will close to all traffic for six weeks "
    "from Monday while engineers replace its corroded turning gear.",
    "Buses will be diverted along the ring road, adding up to twenty "
    "minutes to journeys into the town centre at peak times. Pedestrians "
    "and cyclists can use a temporary footbridge that opened alongside it "
    "on Friday.",
    "Shopkeepers on Quay Street said they had already seen fewer customers "
    "since the works were announced and asked the council to extend free "
    "parking in the multi-storey car park for the length of the closure.",
    "The bridge, which opened in eighteen ninety-four, swings aside to let "
    "tall ships into the inner harbour, and the council said it would still "
    "open for boats on request during the works.",
    NULL};

/* The teaser of Z: under 25 words, all of them in Z. */
static const char *const bridge_teaser =
    "The Old Harbour swing bridge will close to all traffic for six weeks "
    "from Monday while engineers replace its corroded gear.";

/* P, Q, R: three stories of a morning digest. */
static const char *const wildfire[] = {
    "Firefighters battled through the night to contain a wildfire that has "
    "forced the evacuation of more than a thousand homes in the hills above "
    "Castellmar, as strong winds carried embers across the main coastal "
    "highway.",
    "Water-bombing aircraft resumed their flights at first light, and "
    "emergency shelters were opened in two schools and a sports hall in the "
    "town.",
    "The regional governor said the fire had probably been started by "
    "sparks from farm machinery working in a dry field and urged residents "
    "to follow evacuation orders without delay. Police closed several roads "
    "into the hills and asked drivers to keep away from the area.",
    "Meteorologists expect the wind to ease by Wednesday evening, but warned "
    "that temperatures would stay well above the seasonal average for the "
    "rest of the week, keeping the risk of new fires high across the "
    "region.",
    NULL};

static const char *const strike[] = {
    "Train drivers on the northern rail network will walk out for two days "
    "next week after talks over pay and working hours broke down late on "
    "Monday, their union said, warning commuters to expect severe "
    "disruption.",
    "Only a handful of services will run on the main lines during the "
    "strike, and none at all on the branch lines.",
    "The rail operator said it was disappointed by the decision and that "
    "its offer was the best it could afford while passenger numbers remain "
    "below their level of five years ago. The union replied that its "
    "members had accepted two years of real-terms cuts already.",
    "Business groups said the walkout would hit shops and restaurants in "
    "city centres that are still struggling to win back office workers, "
    "and called on both sides to return to the table.",
    NULL};

static const char *const telescope[] = {
    "Astronomers using a new radio telescope in the southern desert have "
    "detected repeating bursts of radio waves from a galaxy about three "
    "billion light years away, a finding they say could help explain one of "
    "the strangest signals in the sky.",
    "The bursts arrived in a regular pattern every sixteen days over a "
    "period of eight months.",
    "Fast radio bursts last only a few thousandths of a second, and most "
    "have been seen only once, which makes their source hard to study. A "
    "repeating burst lets researchers point other instruments at the same "
    "spot and wait for the next one.",
    "The team said it would publish its full results later this year and "
    "has already booked time on two optical telescopes to search for the "
    "host galaxy's brightest stars.",
    NULL};

/* L: a long story, for a reprint cut after its first third. */
static const char *const museum[] = {
    "A painting that disappeared from a private collection in Vienna more "
    "than eighty years ago has been identified at a provincial auction "
    "house, where it was about to be sold as the work of an unknown "
    "follower of a Flemish master.",
    "An art historian who was browsing the online catalogue noticed a small "
    "wax seal on the back of the frame that matched the stamp used by the "
    "collector's family, and alerted the auctioneers the evening before the "
    "sale.",
    "The auction house withdrew the painting, a winter landscape with "
    "skaters on a frozen canal, and said it would work with the family's "
    "descendants and the current owner to reach a fair settlement.",
    "Records show that the collection was seized in the spring of the year "
    "the family fled the city, and that most of it was dispersed through "
    "dealers in several countries. About forty works have been traced so "
    "far, many of them in public museums that have since returned them.",
    "The current owner, a retired teacher who inherited the painting from "
    "an uncle, said he had no idea of its history and was glad it could go "
    "home. \"It hung above our fireplace for as long as I can remember,\" "
    "he said.",
    "Experts say the rediscovery shows how much of the looted art of that "
    "period is still hidden in plain sight, in homes and small sale rooms "
    "rather than in the great museums, and that online catalogues have made "
    "it far easier for researchers to spot.",
    "The family's lawyer said the descendants, who now live in three "
    "countries, were moved by the news and hoped to see the painting "
    "together before deciding whether to keep it, lend it to a museum or "
    "sell it.",
    NULL};

/* G: a flower show, and the captions of its photo gallery. */
static const char *const flowershow[] = {
    "Record crowds poured into the county showground over the weekend for "
    "the hundredth summer flower show, despite heavy showers on Saturday "
    "afternoon that turned the car parks into mud.",
    "Organisers said the centenary show had attracted exhibitors from every "
    "corner of the country, and the marquees were so full that the judging "
    "of the sweet pea classes ran two hours late.",
    "The top prize went to a retired postman from Ashby Fold who has "
    "entered the show every year for half a century and finally won with a "
    "display of dahlias he grew on his allotment.",
    "Children's competitions, a dog agility ring and a vintage tractor "
    "parade kept families busy between the showers, and the food hall sold "
    "out of strawberries by Sunday lunchtime.",
    "The show committee said the money raised would go to the county's "
    "hospice and to a fund for new greenhouses at the village primary "
    "school.",
    NULL};

static const char *const flowershow_gallery =
    "In pictures: Crowds shelter from a downpour under the main marquee on "
    "Saturday. A young exhibitor carries her prize-winning sunflower to the "
    "judging tent. Collies weave through the poles in the agility ring. "
    "Gleaming tractors from the nineteen fifties line up for the parade. "
    "The champion dahlias on display in the floral hall. Volunteers hand "
    "out strawberries and cream in the food hall. Click to see all "
    "photographs.";

/* H: a story carried by sixty pages, each with a site's footer. */
static const char *const reservoir[] = {
    "Water companies across the south of the country have announced a ban "
    "on garden hoses from next Friday after the driest spring in decades "
    "left reservoirs far below their usual level for the time of year.",
    "Customers who break the ban could be fined, although the companies "
    "said they would rely on people doing the right thing and did not "
    "expect to prosecute anyone. Watering cans, buckets and drip systems "
    "may still be used.",
    "Farmers have been allowed to keep drawing water from rivers for now, "
    "but the environment agency warned that licences could be suspended if "
    "river flows fall further over the summer.",
    "Engineers are working to fix leaks in the pipe network, which the "
    "companies admit loses a large share of the water they treat every "
    "day, and one firm plans to bring in tankers to keep supplies flowing to "
    "villages on the edge of its area.",
    NULL};

static const char *const sitefooters[] = {
    "Sign up for the Valley Gazette morning newsletter and get the day's "
    "top stories in your inbox. Follow us on social media.",
    "Have a story for us? Contact the Evening Courier newsroom by phone or "
    "email, or send us your photos through our website.",
    "Subscribe to the Northern Echo Weekly today and read every article "
    "online without limits, including our archive and puzzles.",
    "This article is brought to you by the Coastal Herald, independent "
    "local journalism since eighteen ninety. Support our reporting.",
};

/* ------------------------------------------------------------ helpers */

/* A growing string. */
typedef struct page {
    char *s;
    size_t n, cap;
} page;

static void add(page *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    cr_assert_geq(need, 0);
    if (p->n + (size_t)need + 1 > p->cap) {
        p->cap = (p->n + (size_t)need + 1) * 2;
        p->s = realloc(p->s, p->cap);
        cr_assert_not_null(p->s);
    }
    va_start(ap, fmt);
    vsnprintf(p->s + p->n, p->cap - p->n, fmt, ap);
    va_end(ap);
    p->n += (size_t)need;
}

/* Paragraphs from..to-1 of a story (to 0: to its end), a blank line after
   each. */
static void paras(page *p, const char *const *story, int from, int to)
{
    for (int i = from; story[i] && (to == 0 || i < to); i++)
        add(p, "%s\n\n", story[i]);
}

/* A page of a story: a headline line, the paragraphs, a closing line. */
static char *reprint(const char *head, const char *const *story, const char *tail)
{
    page p = {0};
    add(&p, "%s\n\n", head);
    paras(&p, story, 0, 0);
    add(&p, "%s", tail);
    return p.s;
}

/* A batch of n texts as the command runs it: counted first for boilerplate. */
static nd_batch *run(const nd_params *p, size_t n, char **texts)
{
    size_t *lens = malloc(sizeof *lens * n);
    cr_assert_not_null(lens);
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(texts[i]);
    nd_batch *b;
    cr_assert_eq(nd_batch_create(p, &b), ND_OK);
    if (p->boilerplate > 0.0)
        cr_assert_eq(nd_batch_count(b, n, (const char *const *)texts, lens, NULL), ND_OK);
    cr_assert_eq(nd_batch_add_many(b, n, (const char *const *)texts, lens, NULL, NULL),
                 ND_OK);
    cr_assert_eq(nd_batch_run(b), ND_OK);
    free(lens);
    return b;
}

static int same(const nd_batch *b, size_t x, size_t y)
{
    return nd_batch_cluster(b, x) == nd_batch_cluster(b, y);
}

/* The verified pair (x, y), x < y, or NULL. */
static const nd_edge *edge(const nd_batch *b, uint32_t x, uint32_t y)
{
    size_t n;
    const nd_edge *e = nd_batch_edges(b, &n);
    for (size_t i = 0; i < n; i++)
        if (e[i].a == x && e[i].b == y)
            return &e[i];
    return NULL;
}

static void free_all(char **texts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
}

/* The number of documents in doc's cluster. */
static size_t members(const nd_batch *b, size_t n, size_t doc)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += same(b, i, doc);
    return m;
}

/* ------------------------------------------------------- fillers, stubs */

/*
 * Each case is built into t (its documents in a fixed order) and checked by
 * its own function, so the thread-count test can run them all in one batch
 * at an offset.
 */

/* Ferry pages 0-3, the last carrying the library story's lead as a filler;
   library pages 4-5 and a brief of the library story (its lead and a short
   sentence, 54 words). */
enum { FILLER_DOCS = 7 };
static void filler_case(char **t)
{
    page brief = {0};
    add(&brief, "Library fire\n\n%s Nobody was hurt.", library[0]);
    page filled = {0};
    add(&filled, "Island ferry timetable slashed\n\n");
    paras(&filled, ferry, 0, 4);
    add(&filled, "In other news\n\n%s", library[0]);
    t[0] = reprint("Ferry sailings to Calloway Islands cut to one a day\nBy Ewan Roberts",
                   ferry, "Copyright Portmere Press.");
    t[1] = reprint("Islanders angry as ferry service is cut", ferry,
                   "Reporting by the Island Times.");
    t[2] = reprint("FERRY CUTS: one sailing a day from next month", ferry, "Comments are closed.");
    t[3] = filled.s;
    t[4] = reprint("Fire destroys library's history collection\nBy Anna Kowal", library,
                   "Copyright City Post.");
    t[5] = reprint("Parish records lost in Hallam Street library blaze", library,
                   "Share this story.");
    t[6] = brief.s;
}

static void filler_check(const nd_batch *b, uint32_t o)
{
    cr_assert_not_null(edge(b, o + 3, o + 6), "the brief is contained in the page carrying it");
    cr_assert(same(b, o + 0, o + 1) && same(b, o + 0, o + 2) && same(b, o + 0, o + 3),
              "the ferry pages are one story");
    cr_assert(same(b, o + 4, o + 5) && same(b, o + 4, o + 6),
              "the brief joins the library story");
    cr_assert(!same(b, o + 0, o + 4), "the filler paragraph does not bridge the two stories");
}

Test(rules, filler_paragraph_does_not_bridge_two_stories)
{
    char *t[FILLER_DOCS];
    filler_case(t);
    nd_params p;
    nd_params_init(&p);
    nd_batch *b = run(&p, FILLER_DOCS, t);
    filler_check(b, 0);
    nd_batch_free(b);
    free_all(t, FILLER_DOCS);
}

/* A page of a story that quotes the statement at its end. */
static char *quoting(const char *head, const char *const *story)
{
    page p = {0};
    add(&p, "%s\n\n", head);
    paras(&p, story, 0, 0);
    add(&p, "\"%s\"", statement);
    return p.s;
}

/* Measles pages 0-1 and bird flu pages 2-3 quote the same statement of 45
   words; 4 is the statement as released. */
enum { QUOTE_DOCS = 5 };
static void quote_case(char **t)
{
    page release = {0};
    add(&release, "Statement from the regional health department\n\n%s", statement);
    t[0] = quoting("Measles cases confirmed at Elmbridge primary school", measles);
    t[1] = quoting("Parents urged to check vaccinations after measles outbreak", measles);
    t[2] = quoting("Bird flu found on two farms near Stanwick", birdflu);
    t[3] = quoting("All poultry to be culled on Stanwick farms", birdflu);
    t[4] = release.s;
}

static void quote_check(const nd_batch *b, uint32_t o)
{
    cr_assert_not_null(edge(b, o + 0, o + 4), "the measles story holds the statement");
    cr_assert_not_null(edge(b, o + 2, o + 4), "the bird flu story holds the statement");
    cr_assert(same(b, o + 0, o + 1) && same(b, o + 2, o + 3));
    cr_assert(!same(b, o + 0, o + 2), "the statement does not bridge the two stories");
}

Test(rules, quoted_statement_does_not_bridge_two_stories)
{
    char *t[QUOTE_DOCS];
    quote_case(t);
    nd_params p;
    nd_params_init(&p);
    nd_batch *b = run(&p, QUOTE_DOCS, t);
    quote_check(b, 0);
    /* Not a stub, held whole by every page of both: it joins one. */
    cr_assert(same(b, 4, 0) || same(b, 4, 2));
    nd_batch_free(b);
    free_all(t, QUOTE_DOCS);
}

Test(rules, teaser_under_25_words_stays_alone)
{
    char *t[] = {
        reprint("Swing bridge to close for six weeks", bridge, "Copyright Harbour Mail."),
        reprint("Old Harbour bridge closure: what you need to know", bridge,
                "Share this article."),
        strdup(bridge_teaser),
    };
    enum { N = sizeof t / sizeof *t };
    nd_params p;
    nd_params_init(&p);
    nd_batch *b = run(&p, N, t);
    const nd_edge *e = edge(b, 0, 2);
    cr_assert_not_null(e, "the teaser is a verified pair of the story");
    cr_assert_geq(e->containment, 0.9);
    cr_assert_lt(e->jaccard, 0.2);
    cr_assert(same(b, 0, 1));
    cr_assert(!same(b, 0, 2), "a teaser of 21 words is no copy of the story");
    nd_batch_free(b);
    free_all(t, N);
}

/* ----------------------------------------------- digests, galleries, cuts */

/* A short version of a story: its lead and a line. */
static char *brief(const char *head, const char *const *story)
{
    page p = {0};
    add(&p, "%s\n\n%s This story will be updated.", head, story[0]);
    return p.s;
}

/* Three stories (wildfire 0-2, strike 3-5, telescope 6-8), each with two
   pages and a brief of its lead; 9 is a morning digest of the three leads. */
enum { DIGEST_DOCS = 10 };
static void digest_case(char **t)
{
    page digest = {0};
    add(&digest, "Morning briefing: three stories to start your day\n\n");
    add(&digest, "%s Read more.\n\n", wildfire[0]);
    add(&digest, "%s Read more.\n\n", strike[0]);
    add(&digest, "%s Read more.\n\n", telescope[0]);
    add(&digest, "That's all for this morning. See you tomorrow.");
    t[0] = reprint("Thousand homes evacuated as wildfire nears Castellmar", wildfire,
                   "Copyright Coast News.");
    t[1] = reprint("Wildfire forces evacuations above Castellmar", wildfire, "Share this.");
    t[2] = brief("Castellmar wildfire: homes evacuated", wildfire);
    t[3] = reprint("Train drivers to strike for two days", strike, "Copyright Rail Week.");
    t[4] = reprint("Northern rail strike set for next week", strike, "Comments closed.");
    t[5] = brief("Rail strike called", strike);
    t[6] = reprint("Radio bursts repeat every sixteen days", telescope, "Copyright Sky Today.");
    t[7] = reprint("Mystery radio signal repeats, astronomers say", telescope, "Share this.");
    t[8] = brief("Repeating radio bursts found", telescope);
    t[9] = digest.s;
}

static void digest_check(const nd_batch *b, uint32_t o)
{
    for (uint32_t s = 0; s < 3; s++) {
        uint32_t f = o + 3 * s;
        cr_assert_not_null(edge(b, f + 2, o + 9), "the digest holds brief %u", f + 2);
        cr_assert(same(b, f, f + 1) && same(b, f, f + 2), "story %u is one cluster", s);
        cr_assert(!same(b, f, o + 9), "the digest joins none of them");
        cr_assert(!same(b, f, o + 3 * ((s + 1) % 3)), "the stories stay apart");
    }
}

Test(rules, digest_of_three_leads_joins_none_of_them)
{
    char *t[DIGEST_DOCS];
    digest_case(t);
    nd_params p;
    nd_params_init(&p);
    nd_batch *b = run(&p, DIGEST_DOCS, t);
    digest_check(b, 0);
    nd_batch_free(b);
    free_all(t, DIGEST_DOCS);
}

/* Museum pages 0-1 and a reprint cut after two of its seven paragraphs (79
   of 286 words: 2);
   flower show pages 3-4, page 5 with the photo gallery's captions after the
   story, and 6 the gallery page alone. */
enum { CUT_DOCS = 7 };
static void cut_case(char **t)
{
    page cut = {0};
    add(&cut, "Looted painting found at auction\n\n");
    paras(&cut, museum, 0, 2);
    page gallery = {0};
    add(&gallery, "Flower show: the best pictures\n\n%s", flowershow_gallery);
    page withgallery = {0};
    add(&withgallery, "Centenary flower show draws record crowds\n\n");
    paras(&withgallery, flowershow, 0, 0);
    add(&withgallery, "%s", flowershow_gallery);
    t[0] = reprint("Painting lost for eighty years turns up at auction", museum,
                   "Copyright Arts Daily.");
    t[1] = reprint("Auction house withdraws looted winter landscape", museum,
                   "Reporting by the Culture Desk.");
    t[2] = cut.s;
    t[3] = reprint("Record crowds at hundredth flower show", flowershow, "Copyright County Times.");
    t[4] = reprint("Dahlias win it for retired postman at centenary show", flowershow,
                   "Share this article.");
    t[5] = withgallery.s;
    t[6] = gallery.s;
}

static void cut_check(const nd_batch *b, uint32_t o)
{
    const nd_edge *e = edge(b, o + 0, o + 2);
    cr_assert_not_null(e, "the containment bands find the cut");
    cr_assert_lt(e->jaccard, 0.4, "a cut to a third is no match by Jaccard");
    cr_assert(same(b, o + 0, o + 1) && same(b, o + 0, o + 2), "the cut joins its story");
    cr_assert_not_null(edge(b, o + 5, o + 6), "the page with the gallery holds it");
    cr_assert(same(b, o + 3, o + 4) && same(b, o + 3, o + 5));
    cr_assert(!same(b, o + 3, o + 6), "one page of three carries the gallery: it stays apart");
    cr_assert(!same(b, o + 0, o + 3));
}

Test(rules, truncated_reprint_joins_gallery_does_not)
{
    char *t[CUT_DOCS];
    cut_case(t);
    nd_params p;
    nd_params_init(&p);
    nd_batch *b = run(&p, CUT_DOCS, t);
    cut_check(b, 0);
    nd_batch_free(b);
    free_all(t, CUT_DOCS);
}

/* ------------------------------------------------------------- figures */

/* A council budget stating four figures; the first can be mistyped. */
static char *budget(const char *head, const char *first, const char *tail)
{
    page p = {0};
    add(&p,
        "%s\n\n"
        "Councillors in Redfern approved a budget of $%s million for the coming "
        "year on Thursday night, an increase of 4.6 percent on last year, after "
        "a debate that lasted more than five hours.\n\n"
        "The budget creates 312 jobs in social care and keeps all 17 branch "
        "libraries open, which had been threatened with closure in the spring. "
        "A further sum is set aside for road repairs after the harsh winter "
        "left many streets badly damaged.\n\n"
        "Opposition members said the plan relied on optimistic forecasts of "
        "property tax income and voted against it. The council leader replied "
        "that the city's reserves were healthy and that the spending on care "
        "would save money in the long run by keeping elderly residents out of "
        "hospital.\n\n"
        "The city will also hire thousands of classroom assistants over the "
        "next three years, the leader said, the largest such programme in its "
        "history.\n\n%s",
        head, first, tail);
    return p.s;
}

/* A monthly jobs report: the same words every month, other figures. */
static char *jobs_report(const int *v)
{
    page p = {0};
    add(&p,
        "The unemployment rate in Harwick County fell to %d.%d percent last "
        "month from %d.%d percent the month before, the state labour department "
        "said on Friday.\n\n"
        "Employers in the county added %d,%03d jobs over the month, most of "
        "them in retail, health care and construction, while the number of "
        "people claiming benefits dropped by %d to %d,%03d.\n\n"
        "The county's rate remains above the state average of %d.%d percent. "
        "Officials said seasonal hiring at warehouses and garden centres "
        "usually lifts the figures at this time of year, and cautioned against "
        "reading too much into a single month. The next report is due in four "
        "weeks.",
        v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]);
    return p.s;
}

Test(rules, mistyped_figure_still_matches_template_reports_do_not)
{
    static const int may[] = {4, 3, 4, 7, 1, 120, 380, 38, 410, 3, 9};
    static const int june[] = {5, 1, 4, 3, 2, 45, 615, 36, 870, 4, 2};
    char *t[] = {
        budget("Redfern passes record budget", "1,250", "Copyright Redfern Observer."),
        budget("City budget saves libraries, adds care jobs", "1,20",
               "Reporting by the City Desk."),
        jobs_report(may),
        jobs_report(june),
    };
    enum { N = sizeof t / sizeof *t };
    nd_params p;
    nd_params_init(&p);
    cr_assert_gt(p.figures, 0.0, "the figure check is on by default");
    nd_batch *b = run(&p, N, t);
    const nd_edge *e = edge(b, 0, 1);
    cr_assert_not_null(e, "one figure of four mistyped is still a reprint");
    cr_assert(same(b, 0, 1));
    cr_assert(!same(b, 2, 3), "two months of one report are two stories");
    cr_assert(!same(b, 0, 2));
    nd_batch_free(b);

    /* Without the check the words alone join the two reports. */
    p.figures = 0;
    b = run(&p, N, t);
    cr_assert(same(b, 2, 3));
    nd_batch_free(b);
    free_all(t, N);
}

/* A zoo story stating four figures, under page furniture. */
static char *panda(const char *furniture, const char *comments)
{
    page p = {0};
    add(&p,
        "Panda cub born at Westfield Zoo\n%s\n\n"
        "A giant panda cub has been born at Westfield Zoo, the first to be bred "
        "in the country, keepers announced on Monday. The cub weighs about 150 "
        "grams and is being cared for by its mother, Mei Lan, in a quiet den "
        "away from visitors.\n\n"
        "Keepers said the birth followed 4 years of attempts and two earlier "
        "pregnancies that ended in loss. The zoo's panda house will stay "
        "closed for at least 6 weeks to give mother and cub peace.\n\n"
        "The pair of pandas arrived on a long-term loan, and any cub born in "
        "the country must be returned to the breeding centre that lent them "
        "when it is about 35 months old. Zoo staff said they would name the "
        "cub after a hundred days, following tradition.\n\n"
        "Visitors will be able to follow the cub's progress on a webcam.\n\n"
        "%s",
        furniture, comments);
    return p.s;
}

Test(rules, page_furniture_figures_do_not_split_copies)
{
    char *t[] = {
        panda("By Lisa Grant | Updated 7:08 AM ET, July 16, 2018",
              "14 comments\n(c) 2017 Westfield Courier"),
        panda("Posted 10:32 PM, July 16, 2018 | Share", "231 comments\n(c) 2019 Zoo News"),
    };
    enum { N = sizeof t / sizeof *t };
    nd_params p;
    nd_params_init(&p);
    nd_batch *b = run(&p, N, t);
    cr_assert_not_null(edge(b, 0, 1), "times, years and a comment count are furniture");
    cr_assert_gt(edge(b, 0, 1)->jaccard, 0.7);
    cr_assert(same(b, 0, 1));
    nd_batch_free(b);
    free_all(t, N);
}

/* The earlier version of the story states seven figures; two scrapes of it
   differ in the day of the month and in the comment count. */
Test(rules, scrapes_of_a_figure_rich_story_stay_together)
{
    char *t[] = {
        panda("By Lisa Grant | Updated 7:08 AM ET, July 16, 2018 | 10-year loan, "
              "2 pregnancies, 100 days",
              "14 comments"),
        panda("Posted 9:15 AM, July 17, 2018 | Share | 10-year loan, 2 pregnancies, "
              "100 days",
              "3 comments"),
    };
    enum { N = sizeof t / sizeof *t };
    nd_params p;
    nd_params_init(&p);
    nd_batch *b = run(&p, N, t);
    cr_assert_not_null(edge(b, 0, 1), "a day of the month and one count are no evidence");
    cr_assert(same(b, 0, 1));
    nd_batch_free(b);
    free_all(t, N);
}

/* ----------------------------------------------------------- boilerplate */

/*
 * Local news in brief, made from three sentences with the names filled in:
 * brief i takes event a = i % 8, follow-up (a + i / 8) % 8 and closing
 * (a + 2 (i / 8)) % 8, so two briefs share one sentence pattern at most
 * (for i < 64), each filled with other names.
 */
static const char *const events[] = {
    "Police in {T} are appealing for witnesses after a delivery van crashed "
    "into the front of a bakery on {P} early on {D} morning.",
    "Volunteers in {T} have planted a community orchard of forty apple and "
    "pear trees on waste ground beside {P}.",
    "A rare white stork has been spotted feeding in the water meadows near "
    "{P} outside {T}, drawing birdwatchers from across the region.",
    "The parish council in {T} has voted to turn the disused telephone box "
    "on {P} into a book exchange.",
    "A burst water main flooded several cellars on {P} in {T} on {D}, and "
    "engineers worked into the night to repair it.",
    "Pupils at the primary school on {P} in {T} have raised enough money to "
    "buy a defibrillator for their village hall.",
    "Plans for a skate park on the playing field off {P} in {T} have been "
    "approved after a two-year campaign by teenagers.",
    "A pensioner from {T} has found a wedding ring she lost while gardening "
    "at her home on {P} nearly thirty years ago, wrapped around a carrot.",
};

static const char *const followups[] = {
    "{N}, who helped organise it, said the response from neighbours had "
    "been overwhelming.",
    "Residents can find out more at an open meeting in the church hall on "
    "{D} evening, said {N}.",
    "\"It has been a long time coming,\" said {N}, who has lived in the area "
    "for most of her life.",
    "The local councillor, {N}, said she would ask the county for money to "
    "cover the costs.",
    "Photographs were shared hundreds of times online within hours, "
    "according to {N}.",
    "{N} thanked the firefighters and the staff of the corner shop for "
    "their help.",
    "A spokesman, {N}, said anyone with information should call the "
    "non-emergency number.",
    "Local historian {N} said nothing like it had happened in the town "
    "since the great flood.",
};

static const char *const closings[] = {
    "The {K} people who signed the petition will be invited to the opening.",
    "A further {K} pounds is needed to finish the work by the end of the summer.",
    "Entry to the celebration on the green is free for children under {K}.",
    "Work is due to begin in the spring and should take about {K} weeks.",
    "Last year a similar scheme in a neighbouring village drew more than {K} visitors.",
    "The story has since been picked up by a national radio station, with {K} "
    "listeners phoning in.",
    "Organisers hope to make it an annual event if the weather is kind.",
    "The council said it had received {K} letters of support and none against.",
};

static const char *const towns[] = {
    "Ashcombe", "Barrowfield", "Cradley", "Dunmore", "Eastleigh Vale", "Foxton",
    "Glenridding", "Harrowgate", "Inverkeld", "Jarvis Bay", "Kettlewell",
    "Langholm", "Marlow Bottom", "Netherby", "Oakhanger", "Pendlebury"};
static const char *const places[] = {
    "Mill Lane", "Church Street", "Tanners Row", "the Old Coach Road",
    "Kingfisher Close", "Station Approach", "Beacon Hill", "Ropewalk",
    "Orchard Way", "Fisher's Quay", "Holloway Lane", "Sandpit Road",
    "Cobblers Yard", "Bishops Walk", "Primrose Bank", "Weavers Green"};
static const char *const firsts[] = {
    "Margaret", "Tom", "Priya", "Dev", "Alice", "Gareth", "Siobhan", "Marek",
    "Helen", "Yusuf", "Brenda", "Colin", "Ingrid", "Rafael", "Elsie", "Owen"};
static const char *const lasts[] = {
    "Pemberton", "Okafor", "Hargreaves", "Lindholm", "Castellano", "Whitcombe",
    "Nakamura", "Fairweather", "Brennan", "Adeyemi", "Thorsby", "Kowalczyk",
    "Ravenscroft", "Delacroix", "Maddox", "Sutcliffe"};
static const char *const days[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                   "Friday", "Saturday", "Sunday"};

/*
 * Append pattern s to p with brief i's names in place of {T} {P} {N} {D}
 * {K}.  Briefs that share an event (same a) differ in town and place, and
 * briefs that share a follow-up (same (a + q) % 8) differ in the name.
 */
static void fill(page *p, const char *s, unsigned i)
{
    const unsigned a = i % 8, q = i / 8;
    for (; *s; s++) {
        if (s[0] != '{' || !s[1] || s[2] != '}') {
            add(p, "%c", *s);
            continue;
        }
        switch (s[1]) {
        case 'T': add(p, "%s", towns[(2 * a + q) % 16]); break;
        case 'P': add(p, "%s", places[(a + 3 * q) % 16]); break;
        case 'N': add(p, "%s %s", firsts[(a + 2 * q) % 16], lasts[(3 * a + 5 * q) % 16]); break;
        case 'D': add(p, "%s", days[i % 7]); break;
        case 'K': add(p, "%u", 20 + i * 37 % 500); break;
        default: cr_assert_fail("unknown slot %c", s[1]);
        }
        s += 2;
    }
}

/* Brief i (i < 64) and then the page chrome `footer`. */
static char *local_brief(unsigned i, const char *footer)
{
    unsigned a = i % 8, q = i / 8;
    page p = {0};
    fill(&p, events[a], i);
    add(&p, " ");
    fill(&p, followups[(a + q) % 8], i);
    add(&p, " ");
    fill(&p, closings[(a + 2 * q) % 8], i);
    add(&p, "\n\n%s", footer);
    return p.s;
}

/* Copy i of the water story, lightly edited, with a site's footer. */
static char *reservoir_copy(unsigned i)
{
    static const char *const heads[] = {
        "Hosepipe ban announced as reservoirs run low",
        "Hosepipe ban from Friday after driest spring in decades",
        "Water firms impose garden hose ban",
        "Drought: what the hosepipe ban means for you",
        "South faces hosepipe ban",
        "Hose ban to start next week as reservoirs fall",
    };
    static const char *const bylines[] = {"By Kate Mullins", "By Raj Sethi",
                                          "Staff reporter", "By Joe Barker",
                                          "Press Association"};
    page p = {0};
    add(&p, "%s\n%s\n\n", heads[i % 6], bylines[i % 5]);
    paras(&p, reservoir, 0, i % 4 == 3 ? 3 : 0); /* some cut the last paragraph */
    add(&p, "%s", sitefooters[i % 4]);
    return p.s;
}

Test(rules, footer_shared_by_a_large_family_keeps_its_text)
{
    /* 80 pages under four site footers: 60 copies of one story (more than
       the 50 documents of the boilerplate cut-off) and 20 other stories. */
    enum { COPIES = 60, N = 80 };
    char *t[N];
    for (unsigned i = 0; i < COPIES; i++)
        t[i] = reservoir_copy(i);
    for (unsigned i = COPIES; i < N; i++)
        t[i] = local_brief(i - COPIES, sitefooters[i % 4]);
    nd_params p;
    nd_params_init(&p);
    nd_batch *b = run(&p, N, t);
    nd_batch_stats st;
    nd_batch_stats_get(b, &st);
    cr_assert_eq(st.boilerplate_cutoff, 50);
    cr_assert_eq(st.text.suppressed_docs, 0, "the story's text is not boilerplate");
    cr_assert_eq(members(b, N, 0), COPIES, "the %d copies are one cluster", COPIES);
    for (unsigned i = COPIES; i < N; i++)
        cr_assert_eq(members(b, N, i), 1, "story %u shares only a footer", i);
    nd_batch_free(b);
    free_all(t, N);
}

/* A cookie notice of 29 words on every page. */
static const char *const chrome =
    "We use cookies to give you the best experience on our website and to "
    "show you relevant advertising. By continuing to browse you agree to "
    "our use of cookies.";

/* More different stories than the cut-off of 50, each under one notice. */
enum { NOTICED = 56 };

/* The briefs under `notice`: it is dropped from every page (cut-off 50)
   and the pages stay apart. */
static void notice_dropped(char **t, const char *notice)
{
    for (unsigned i = 0; i < NOTICED; i++)
        t[i] = local_brief(i, notice);
    nd_params p;
    nd_params_init(&p);
    nd_batch *b = run(&p, NOTICED, t);
    nd_batch_stats st;
    nd_batch_stats_get(b, &st);
    cr_assert_eq(st.boilerplate_cutoff, 50);
    cr_assert_eq(st.text.suppressed_docs, NOTICED, "every page loses the notice");
    cr_assert_eq(st.clusters, NOTICED, "pages sharing only the notice stay apart");
    nd_batch_free(b);
}

Test(rules, footer_on_many_different_stories_is_dropped)
{
    char *t[NOTICED];
    notice_dropped(t, chrome);
    /* Counted, the notice joins some of them. */
    nd_params p;
    nd_params_init(&p);
    p.boilerplate = 0;
    nd_batch *b = run(&p, NOTICED, t);
    nd_batch_stats st;
    nd_batch_stats_get(b, &st);
    cr_assert_lt(st.clusters, NOTICED, "%llu clusters", (unsigned long long)st.clusters);
    nd_batch_free(b);
    free_all(t, NOTICED);
}

/* A notice as long as the story under it: the pages share half their
   text, and are still different stories (a group of copies must share
   most of its text: exact Jaccard 0.6). */
static const char *const long_notice =
    "We use cookies to give you the best experience on our website and to "
    "show you relevant advertising. By continuing to browse you agree to "
    "our use of cookies. Sign up to our free daily newsletter for the latest "
    "local news, sport and weather delivered to your inbox every morning.";

Test(rules, notice_as_long_as_the_story_is_dropped)
{
    char *t[NOTICED];
    notice_dropped(t, long_notice);
    free_all(t, NOTICED);
}

/* ----------------------------------------------------------- threads */

Test(rules, attach_clusters_equal_for_1_2_and_4_threads)
{
    enum { N = FILLER_DOCS + QUOTE_DOCS + DIGEST_DOCS + CUT_DOCS };
    char *t[N];
    filler_case(t);
    quote_case(t + FILLER_DOCS);
    digest_case(t + FILLER_DOCS + QUOTE_DOCS);
    cut_case(t + FILLER_DOCS + QUOTE_DOCS + DIGEST_DOCS);
    nd_params p;
    nd_params_init(&p);
    cr_assert_eq(p.cluster, ND_CLUSTER_ATTACH);
    static const unsigned threads[] = {1, 2, 4};
    uint32_t first[N];
    for (int r = 0; r < 3; r++) {
        p.threads = threads[r];
        nd_batch *b = run(&p, N, t);
        filler_check(b, 0);
        quote_check(b, FILLER_DOCS);
        digest_check(b, FILLER_DOCS + QUOTE_DOCS);
        cut_check(b, FILLER_DOCS + QUOTE_DOCS + DIGEST_DOCS);
        for (size_t i = 0; i < N; i++) {
            if (r == 0)
                first[i] = nd_batch_cluster(b, i);
            else
                cr_assert_eq(nd_batch_cluster(b, i), first[i], "doc %zu, %u threads", i,
                             threads[r]);
        }
        nd_batch_free(b);
    }
    free_all(t, N);
}
