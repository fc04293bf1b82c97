"""Hand-written word lists for datasets/citations/build.py.

Everything here was written for this project: names, title vocabulary, the (real or invented)
journal, publisher, city, conference and institution names. Names of journals, publishers,
cities and conferences are facts; no reference was copied from any source.
Lists are strings split on "|" so they stay compact and easy to extend.
"""

from __future__ import annotations


def _w(text: str) -> list[str]:
    return [t.strip() for t in text.split("|") if t.strip()]


# ---------------------------------------------------------------- people
# culture -> (weight, surnames, given names). Given names with "-" give hyphenated initials.
CULTURES: dict[str, tuple[int, list[str], list[str]]] = {
    "en": (22, _w("""Smith|Johnson|Williams|Brown|Jones|Miller|Davis|Wilson|Anderson|Taylor|Moore|
        Jackson|Thompson|White|Harris|Clark|Lewis|Robinson|Walker|Young|Allen|King|Wright|Scott|Green|
        Baker|Adams|Nelson|Hill|Campbell|Mitchell|Roberts|Carter|Phillips|Evans|Turner|Parker|Collins|
        Edwards|Stewart|Morris|Cook|Rogers|Morgan|Cooper|Peterson|Reed|Bailey|Bell|Kelly|Howard|Ward|
        Cox|Richardson|Wood|Watson|Brooks|Bennett|Gray|Hughes|Price|Sanders|Myers|Long|Ross|Foster|
        Powell|Jenkins|Perry|Russell|Sullivan|Fisher|Henderson|Coleman|Simmons|Patterson|Jordan|
        Reynolds|Hamilton|Graham|Wallace|Hayes|Gibson|Ellis|Stevens|Tucker|Porter|Hunter|Hicks|
        Crawford|Boyd|Mason|Warren|Dixon|Burns|Gordon|Shaw|Holmes|Rice|Hunt|Black|Palmer|Wells|Webb|
        Fletcher|Chambers|Lawrence|Hartley|Whitfield|Ashworth|Blackwood|Thornton|Pemberton|Kingsley|
        Sutherland|Fairbairn|MacDonald|MacLeod|McKenzie|McIntyre|MacGregor|Mackay|McLaughlin|O'Brien|
        O'Connor|O'Neill|O'Sullivan|O'Reilly|Fitzgerald|Gallagher|Doherty|Kennedy|Byrne|Quinn|Brennan|
        Nolan|Lloyd-Evans|Hughes-Wilson|Stanton|Okoro-Bell|Trelawney|Penhaligon|Dunmore|Ravensworth"""),
        _w("""James|John|Robert|Michael|William|David|Richard|Thomas|Charles|Daniel|Matthew|Andrew|Mark|
        Paul|Steven|Kevin|Brian|George|Edward|Peter|Henry|Samuel|Benjamin|Jonathan|Nicholas|
        Christopher|Timothy|Patrick|Simon|Oliver|Harry|Mary|Patricia|Jennifer|Linda|Elizabeth|Barbara|
        Susan|Jessica|Sarah|Karen|Nancy|Margaret|Lisa|Emily|Rachel|Laura|Helen|Catherine|Anne|Ruth|
        Alice|Claire|Rebecca|Hannah|Lucy|Sophie|Charlotte|Emma|Grace|Amy|Joanna|Victoria|Eleanor|
        Gareth|Rhys|Siobhan|Niamh|Ciaran|Eoin|Fiona|Hamish|Duncan|Moira""")),
    "de": (9, _w("""Müller|Schmidt|Schneider|Fischer|Weber|Meyer|Wagner|Becker|Schulz|Hoffmann|Koch|
        Richter|Klein|Wolf|Schröder|Neumann|Schwarz|Zimmermann|Braun|Krüger|Hofmann|Hartmann|Lange|
        Schmitt|Werner|Krause|Lehmann|Köhler|Maier|Huber|Kaiser|Fuchs|Vogel|Jäger|Baumann|Roth|Beck|
        Lorenz|Sommer|Brandt|Haas|Seidel|Engel|Dietrich|Kühn|Pohl|Ziegler|Graf|Vogt|von Hagen|
        von Bülow|Schulze-Wehrmann|Meyer-Holtkamp|Auer|Gruber|Steiner|Eder|Pichler|Brunner|Egger|
        Oberhuber|Keller|Frei|Gerber|Baumgartner"""),
        _w("""Hans|Karl|Wolfgang|Jürgen|Klaus|Dieter|Uwe|Stefan|Thomas|Andreas|Michael|Matthias|Frank|
        Jörg|Martin|Christian|Sebastian|Tobias|Florian|Lukas|Felix|Maximilian|Ulrich|Heinz|Gerhard|
        Friedrich|Ursula|Monika|Petra|Sabine|Claudia|Andrea|Susanne|Birgit|Katrin|Julia|Anna|Lena|
        Hannah|Marie|Katharina|Johanna|Franziska|Elisabeth|Ingrid|Gudrun|Annette|Heike|Hans-Peter|
        Karl-Heinz|Anna-Lena|Hans-Jürgen|Ernst|Rüdiger|Volker|Dörte""")),
    "nl": (4, _w("""van der Berg|de Vries|van Dijk|Bakker|Janssen|Visser|Smit|Meijer|de Boer|Mulder|
        de Groot|Bos|Vos|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|van den Heuvel|
        van der Linden|ter Horst|Verhoeven|Kuipers|van Rijn|Postma|de Jong|van Beek|Claes|Peeters|
        Maes|Willems|Goossens|Wouters|De Smet|Vandenberghe"""),
        _w("""Jan|Pieter|Willem|Hendrik|Johannes|Kees|Bram|Daan|Sander|Joost|Maarten|Ruud|Thijs|Anouk|
        Sanne|Femke|Lotte|Marieke|Eva|Lieke|Annelies|Wouter|Jeroen|Gerrit|Koen|Bart|Els|Griet""")),
    "fr": (8, _w("""Martin|Bernard|Dubois|Thomas|Robert|Richard|Petit|Durand|Leroy|Moreau|Simon|Laurent|
        Lefebvre|Michel|David|Bertrand|Roux|Vincent|Fournier|Morel|Girard|André|Lefèvre|Mercier|
        Dupont|Lambert|Bonnet|François|Legrand|Garnier|Faure|Rousseau|Blanc|Guérin|Henry|Roussel|
        Nicolas|Perrin|Morin|Mathieu|Clément|Gauthier|Dumont|Fontaine|Chevalier|Robin|Le Goff|
        Le Roux|Saint-Hilaire|Duval|Chauvin|de La Rochère|Lacroix|Tremblay|Gagnon|Bouchard|Côté|
        Pelletier|Bélanger"""),
        _w("""Jean|Pierre|Michel|Philippe|Alain|Nicolas|Christophe|François|Patrick|Olivier|Laurent|
        Julien|Sébastien|Antoine|Mathieu|Guillaume|Étienne|Benoît|Rémi|Marie|Nathalie|Isabelle|Sylvie|
        Catherine|Françoise|Sophie|Céline|Aurélie|Camille|Chloé|Élodie|Hélène|Juliette|Claire|Anne|
        Valérie|Jean-Pierre|Jean-Luc|Jean-François|Marie-Claude|Anne-Sophie|Pierre-Yves|
        Marie-Hélène|Geneviève|Mathilde|Gaëlle|Loïc""")),
    "es": (8, _w("""García|Rodríguez|González|Fernández|López|Martínez|Sánchez|Pérez|Gómez|Díaz|
        Hernández|Álvarez|Moreno|Muñoz|Romero|Alonso|Gutiérrez|Navarro|Torres|Domínguez|Vázquez|
        Ramos|Gil|Ramírez|Serrano|Blanco|Molina|Morales|Suárez|Ortega|Delgado|Castro|Ortiz|Rubio|
        Marín|Sanz|Iglesias|Medina|Cortés|Garrido|de la Cruz|del Río|García-Pérez|Fernández-Ruiz|
        Silva|Santos|Oliveira|Souza|Pereira|Costa|Carvalho|Almeida|Ferreira|Ribeiro|Rodrigues|Gomes|
        Martins|Araújo|Barbosa|Cardoso|dos Santos|da Silva|Nascimento|Echeverría|Zubiri|Aguirre"""),
        _w("""José|Juan|Carlos|Luis|Miguel|Javier|Antonio|Manuel|Francisco|Pedro|Alejandro|Pablo|Diego|
        Andrés|Fernando|Sergio|Ricardo|Jorge|Raúl|Álvaro|María|Carmen|Ana|Laura|Lucía|Marta|Elena|
        Isabel|Pilar|Rosa|Teresa|Cristina|Paula|Beatriz|Silvia|João|Paulo|Lucas|Gabriel|Rafael|Tiago|
        Rodrigo|Bruno|Marcelo|Fernanda|Juliana|Camila|Mariana|Luíza|Patrícia|Adriana|Renata|Iñaki""")),
    "it": (5, _w("""Rossi|Russo|Ferrari|Esposito|Bianchi|Romano|Colombo|Ricci|Marino|Greco|Bruno|Gallo|
        Conti|De Luca|Mancini|Giordano|Rizzo|Lombardi|Moretti|Barbieri|Fontana|Santoro|Mariani|
        Rinaldi|Caruso|Ferrara|Galli|Martini|Leone|Longo|Gentile|Martinelli|Vitale|Di Stefano|D'Amico|
        Della Valle|Lo Bianco|Pellegrini|Sartori"""),
        _w("""Giuseppe|Giovanni|Marco|Luca|Andrea|Francesco|Alessandro|Matteo|Lorenzo|Stefano|Paolo|
        Roberto|Davide|Simone|Federico|Giulia|Francesca|Chiara|Sara|Valentina|Elena|Alessandra|Silvia|
        Martina|Federica|Paola|Carlo|Massimo""")),
    "nordic": (4, _w("""Andersson|Johansson|Karlsson|Nilsson|Eriksson|Larsson|Olsson|Persson|Svensson|
        Gustafsson|Hansen|Jensen|Nielsen|Pedersen|Kristiansen|Halvorsen|Lindqvist|Bergström|Sjöberg|
        Åkesson|Virtanen|Korhonen|Mäkinen|Nieminen|Hämäläinen|Laine|Heikkinen|Jónsson|Sigurðsson|
        Løvland|Østergaard"""),
        _w("""Lars|Anders|Erik|Nils|Johan|Per|Magnus|Henrik|Mikael|Ole|Jens|Søren|Kristian|Bjørn|
        Karin|Astrid|Sofia|Maja|Elin|Kirsten|Sigrid|Linnea|Mette|Liisa|Mikko|Juha|Antti|Jukka|Päivi|
        Aino|Guðrún""")),
    "slav": (6, _w("""Nowak|Kowalski|Wiśniewski|Wójcik|Kowalczyk|Kamiński|Lewandowski|Zieliński|
        Szymański|Woźniak|Dąbrowski|Novák|Svoboda|Dvořák|Černý|Procházka|Kučera|Horváth|Kovács|Tóth|
        Szabó|Nagy|Varga|Ivanov|Petrov|Smirnov|Sokolov|Popov|Kuznetsov|Volkov|Morozov|Pavlov|Fedorov|
        Kovalenko|Bondarenko|Shevchenko|Jovanović|Petrović|Nikolić|Marković|Horvat|Kovačević|Popescu|
        Ionescu|Dumitru|Stoica|Georgiev|Dimitrova"""),
        _w("""Jan|Piotr|Krzysztof|Tomasz|Paweł|Marek|Michał|Andrzej|Agnieszka|Katarzyna|Magdalena|Anna|
        Joanna|Małgorzata|Petr|Pavel|Jiří|Tomáš|Jana|Eva|Lenka|Ivan|Dmitri|Sergei|Alexei|Nikolai|
        Mikhail|Andrei|Olga|Natalia|Elena|Tatiana|Irina|Ekaterina|Oleksandr|Olena|Milan|Dragan|Ivana|
        Zoltán|László|Gábor|Katalin|Ioana|Mihai|Radu""")),
    "gr_tr": (3, _w("""Papadopoulos|Georgiou|Nikolaidis|Konstantinou|Christodoulou|Dimitriou|
        Karagiannis|Vlachos|Oikonomou|Antoniou|Yılmaz|Kaya|Demir|Şahin|Çelik|Yıldız|Öztürk|Aydın|
        Arslan|Doğan|Koç|Kurt"""),
        _w("""Georgios|Dimitrios|Konstantinos|Nikolaos|Ioannis|Christos|Panagiotis|Maria|Eleni|Katerina|
        Anastasia|Mehmet|Ahmet|Mustafa|Emre|Burak|Murat|Elif|Zeynep|Ayşe|Selin|Deniz""")),
    "mena": (4, _w("""Haddad|Khalil|Mansour|Nasser|Saleh|Hassan|Abdullah|Rahman|Ibrahim|Farouk|
        El-Sayed|Al-Rashid|Bakr|Hosseini|Ahmadi|Mohammadi|Karimi|Rezaei|Moradi|Jafari|Tehrani|Sadeghi|
        Cohen|Levi|Friedman|Katz|Rosenberg|Goldberg|Shapiro|Ben-David|Mizrahi|Peretz|Biton|
        Al-Hashimi|Abu-Lughod"""),
        _w("""Mohammed|Ahmed|Omar|Hassan|Youssef|Khalid|Karim|Tarek|Samir|Fatima|Layla|Nour|Amira|
        Yasmin|Mona|Reza|Ali|Mehdi|Amir|Sara|Maryam|Neda|Parisa|Leila|David|Yosef|Avraham|Moshe|Yael|
        Noa|Tamar|Michal|Eitan|Ori|Shira|Ronit|Itai""")),
    "sas": (7, _w("""Sharma|Patel|Singh|Kumar|Gupta|Reddy|Rao|Iyer|Nair|Menon|Chatterjee|Banerjee|
        Mukherjee|Das|Bose|Ghosh|Joshi|Desai|Mehta|Kapoor|Chaudhary|Verma|Agarwal|Pillai|Krishnan|
        Subramanian|Venkataraman|Bhattacharya|Siddiqui|Qureshi|Chowdhury|Hossain|Perera|Fernando|
        Jayasuriya|Wickramasinghe"""),
        _w("""Rahul|Amit|Arjun|Vikram|Sanjay|Rajesh|Anil|Suresh|Ravi|Pradeep|Karthik|Srinivas|Vijay|
        Deepak|Priya|Anjali|Sunita|Kavita|Neha|Pooja|Divya|Lakshmi|Meera|Asha|Shreya|Farhan|Imran|
        Tanvir|Nadia|Ayesha|Nuwan|Dilani|Chamara""")),
    "zh": (12, _w("""Wang|Li|Zhang|Liu|Chen|Yang|Huang|Zhao|Wu|Zhou|Xu|Sun|Ma|Zhu|Hu|Guo|He|Lin|Luo|
        Gao|Zheng|Liang|Xie|Song|Tang|Han|Feng|Deng|Cao|Peng|Zeng|Xiao|Tian|Dong|Pan|Yuan|Cai|Jiang|
        Yu|Du|Ye|Cheng|Wei|Su|Lu|Ding|Ren|Shen|Yao|Tsai|Chang|Hsu|Wong|Chan|Leung|Lau"""),
        _w("""Wei|Jing|Lei|Yan|Hui|Ming|Jun|Hao|Xin|Yu|Tao|Qiang|Fang|Ying|Lin|Bo|Xiaoming|Xiaoli|
        Haoran|Zihan|Yuxin|Jianguo|Zhiwei|Xiaoyu|Yifan|Mingyu|Jiayi|Shuang|Chih-Hung|Yu-Ting|Shih-Fen|
        Wen-Chi|Kwok-Wai|Siu-Ming""")),
    "ja_ko": (8, _w("""Sato|Suzuki|Takahashi|Tanaka|Watanabe|Ito|Yamamoto|Nakamura|Kobayashi|Kato|
        Yoshida|Yamada|Sasaki|Yamaguchi|Matsumoto|Inoue|Kimura|Hayashi|Shimizu|Yamazaki|Mori|Abe|
        Ikeda|Hashimoto|Ishikawa|Ogawa|Fujita|Okada|Goto|Hasegawa|Murakami|Kondo|Saito|Sakamoto|Endo|
        Aoki|Nishimura|Fukuda|Ōno|Kim|Lee|Park|Choi|Jung|Kang|Cho|Yoon|Jang|Lim|Oh|Seo|Shin|Kwon|
        Hwang|Ahn|Jeon|Hong|Nguyen|Tran|Pham|Hoang|Phan|Vu|Dang|Bui|Ngo|Duong"""),
        _w("""Hiroshi|Takashi|Kenji|Satoshi|Yuki|Haruto|Daisuke|Kazuo|Makoto|Naoki|Shinji|Takeshi|
        Tomoko|Yoko|Keiko|Akiko|Naoko|Yumi|Aiko|Mariko|Hiroko|Kenta|Ryo|Yusuke|Min-jun|Seo-yeon|
        Ji-hoon|Hyun-woo|Soo-jin|Eun-ji|Jae-hyun|Dong-hyun|Young-ho|Sung-min|Hye-jin|Anh|Minh|Hung|
        Tuan|Mai|Linh|Thanh|Huong|Duc|Quang""")),
    "af": (4, _w("""Okafor|Adeyemi|Okonkwo|Mensah|Boateng|Owusu|Asante|Mwangi|Otieno|Kamau|Njoroge|
        Ndlovu|Dlamini|Nkosi|Mokoena|Khumalo|Abebe|Tesfaye|Bekele|Haile|Diallo|Traoré|Keita|Diop|
        Ndiaye|Sow|Babatunde|Eze|Chukwu|Nwosu|Banda|Phiri|Moyo|Van Wyk|du Plessis"""),
        _w("""Chukwuemeka|Oluwaseun|Adebayo|Ngozi|Chiamaka|Kwame|Kofi|Ama|Akosua|Yaw|Abena|Wanjiru|
        Njeri|Achieng|Thabo|Sipho|Nomvula|Lerato|Thandiwe|Tendai|Amadou|Moussa|Fatoumata|Aminata|
        Ousmane|Mariama|Selam|Meron|Dawit|Tigist|Pieter|Annelie""")),
}

# Corporate and group authors, mostly for web pages and reports: (name, domain).
ORGS: list[tuple[str, str]] = [
    ("World Health Organization", "who.int"), ("Centers for Disease Control and Prevention", "cdc.gov"),
    ("National Institutes of Health", "nih.gov"), ("U.S. Census Bureau", "census.gov"),
    ("Office for National Statistics", "ons.gov.uk"), ("European Commission", "ec.europa.eu"),
    ("UNESCO", "unesco.org"), ("Pew Research Center", "pewresearch.org"), ("Eurostat", "ec.europa.eu/eurostat"),
    ("American Cancer Society", "cancer.org"), ("National Center for Education Statistics", "nces.ed.gov"),
    ("Statistics Canada", "statcan.gc.ca"), ("International Energy Agency", "iea.org"),
    ("Australian Bureau of Statistics", "abs.gov.au"), ("World Wide Web Consortium", "w3.org"),
    ("Python Software Foundation", "python.org"), ("Mozilla Foundation", "mozilla.org"),
    ("OECD", "oecd.org"), ("United Nations Development Programme", "undp.org"),
    ("Food and Agriculture Organization of the United Nations", "fao.org"),
    ("National Renewable Energy Laboratory", "nrel.gov"), ("Intergovernmental Panel on Climate Change", "ipcc.ch"),
    ("American Psychological Association", "apa.org"), ("National Health Service", "nhs.uk"),
    ("Robert Koch-Institut", "rki.de"), ("Statistisches Bundesamt", "destatis.de"),
    ("Institut national de la statistique et des études économiques", "insee.fr"),
    ("Riverside Community Health Trust", "riversidehealth.org"), ("Open Data Collective", "opendatacollective.net"),
    ("Northfield Water Authority", "northfieldwater.gov"), ("Coastal Heritage Society", "coastalheritage.org.uk"),
]

# ---------------------------------------------------------------- titles (English)
# Per discipline: topics (noun phrases, sentence case, usable as subject or object),
# settings (populations, places, systems), methods (study designs). Frames compose them.
DISCIPLINES: dict[str, dict[str, list[str]]] = {
    "medicine": {
        "topics": _w("""type 2 diabetes|hypertension|chronic kidney disease|atrial fibrillation|childhood obesity|
            postoperative delirium|antibiotic resistance|vitamin D supplementation|statin therapy|sepsis|
            breast cancer screening|colorectal cancer|major depressive disorder|smoking cessation|heart failure|
            influenza vaccination|hospital readmission|maternal mortality|preterm birth|chronic pain|
            opioid prescribing|HIV infection|tuberculosis|malaria|asthma|osteoporosis|stroke rehabilitation|
            dementia|physical activity|sleep duration|air pollution exposure|gestational diabetes|
            multiple sclerosis|Parkinson's disease|cardiovascular risk|surgical site infection|
            emergency department crowding|telemedicine|frailty|falls prevention|hepatitis C treatment|
            low back pain|neonatal jaundice|anaemia|fluid resuscitation"""),
        "settings": _w("""older adults|primary care|intensive care units|rural hospitals|low-income countries|
            sub-Saharan Africa|patients with heart failure|children and adolescents|pregnant women|veterans|
            nursing homes|a national cohort|Denmark|England|urban China|the United States|
            postmenopausal women|adults with type 2 diabetes|Brazil|Japan|general practice|Scotland"""),
        "methods": _w("""randomized controlled trial|prospective cohort study|systematic review and meta-analysis|
            cross-sectional study|case-control study|retrospective cohort study|population-based study|
            pilot study|multicentre trial|secondary analysis|cost-effectiveness analysis"""),
    },
    "biology": {
        "topics": _w("""gene expression|protein folding|circadian rhythms|phenotypic plasticity|
            horizontal gene transfer|mitochondrial dynamics|seed dispersal|coral bleaching|population genetics|
            microbial communities|the gut microbiome|plant-pollinator networks|sexual selection|cell migration|
            DNA methylation|stem cell differentiation|apoptosis|host-parasite coevolution|species richness|
            habitat fragmentation|thermal tolerance|chromatin remodeling|RNA interference|bacterial biofilms|
            immune signalling|neural crest development|photosynthetic efficiency|drought tolerance|
            adaptive radiation|invasive species|flowering time|cell wall synthesis|social behaviour"""),
        "settings": _w("""Drosophila melanogaster|Arabidopsis thaliana|zebrafish|mice|yeast|Escherichia coli|
            tropical forests|alpine meadows|coral reefs|island populations|marine sediments|the Amazon basin|
            temperate grasslands|Caenorhabditis elegans|wild birds|freshwater lakes|honeybee colonies"""),
        "methods": _w("""comparative genomic analysis|field experiment|long-term study|meta-analysis|
            single-cell approach|phylogenetic analysis|mesocosm experiment|genome-wide association study"""),
    },
    "chemistry": {
        "topics": _w("""asymmetric catalysis|C-H activation|metal-organic frameworks|lithium-ion batteries|
            photoredox catalysis|self-assembled monolayers|supramolecular polymers|enzyme kinetics|ionic liquids|
            electrocatalytic water splitting|carbon dioxide reduction|nanoparticle synthesis|hydrogen bonding|
            perovskite solar cells|covalent organic frameworks|single-molecule magnets|transition metal complexes|
            polymer electrolytes|click chemistry|cross-coupling reactions|fluorescent probes|proton transfer"""),
        "settings": _w("""aqueous solution|room temperature|mild conditions|porous carbon|gold nanoclusters|
            the gas phase|zeolites|ambient pressure|heterogeneous surfaces|flow reactors|confined spaces"""),
        "methods": _w("""computational study|mechanistic study|spectroscopic investigation|kinetic analysis|
            combined experimental and theoretical study|high-throughput screening"""),
    },
    "physics": {
        "topics": _w("""superconductivity|quantum entanglement|spin waves|topological insulators|dark matter|
            gravitational waves|Bose-Einstein condensates|turbulent convection|quantum phase transitions|
            thermal conductivity|magnetic skyrmions|plasma instabilities|neutrino oscillations|ultrafast dynamics|
            optical solitons|electron transport|charge density waves|graphene|quantum dots|cosmic rays|
            photonic crystals|granular flows|the Casimir effect|Anderson localization|spin-orbit coupling|
            fluctuation theorems|many-body localization|frustrated magnetism"""),
        "settings": _w("""thin films|two-dimensional materials|ultracold atoms|high magnetic fields|the early universe|
            disordered systems|optical lattices|layered cuprates|galaxy clusters|tokamak plasmas|nanowires|
            heavy-ion collisions|semiconductor heterostructures|trapped ions|kagome lattices"""),
        "methods": _w("""numerical study|Monte Carlo study|first-principles study|experimental study|
            theoretical analysis|renormalization group approach|density functional calculation"""),
    },
    "cs": {
        "topics": _w("""neural machine translation|graph neural networks|reinforcement learning|program synthesis|
            differential privacy|distributed consensus|model checking|garbage collection|cache coherence|
            federated learning|adversarial examples|image segmentation|information retrieval|type inference|
            fault tolerance|query optimization|compiler optimization|speech recognition|anomaly detection|
            recommender systems|knowledge graphs|software testing|code review|edge computing|
            wireless sensor networks|approximate nearest neighbour search|transfer learning|active learning|
            sparse matrix multiplication|smart contracts|online learning|string matching|load balancing|
            energy-efficient scheduling|entity resolution|static analysis|object detection|data deduplication"""),
        "settings": _w("""large-scale datasets|mobile devices|cloud data centers|low-resource languages|
            embedded systems|peer-to-peer networks|open-source projects|heterogeneous clusters|real-time systems|
            social networks|multicore processors|autonomous vehicles|noisy labels|streaming data|web browsers"""),
        "methods": _w("""empirical study|formal analysis|benchmark study|systematic literature review|case study|
            simulation study|probabilistic approach|scalable approach|controlled experiment"""),
    },
    "economics": {
        "topics": _w("""minimum wages|monetary policy|trade liberalization|income inequality|labor market entry|
            household savings|foreign direct investment|microfinance|exchange rate volatility|carbon pricing|
            public debt|firm productivity|housing prices|bank lending|informal employment|remittances|tax evasion|
            intergenerational mobility|corporate governance|venture capital|agricultural productivity|
            inflation expectations|sovereign default|fiscal multipliers|credit constraints|health insurance|
            automation|school vouchers|land reform|price discrimination"""),
        "settings": _w("""developing countries|the euro area|India|Latin America|OECD countries|small firms|
            rural Kenya|post-war Germany|emerging markets|the United States|China|Mexico|local labor markets|
            Indonesia|the Nordic countries"""),
        "methods": _w("""natural experiment|structural approach|panel data analysis|quasi-experimental study|
            general equilibrium analysis|regression discontinuity design|field experiment"""),
    },
    "psychology": {
        "topics": _w("""working memory|self-control|implicit bias|attachment security|emotion regulation|
            mind wandering|prospective memory|social comparison|moral judgment|risk perception|face recognition|
            language comprehension|executive function|perfectionism|loneliness|stereotype threat|
            decision making under uncertainty|visual attention|test anxiety|mindfulness|personality traits|
            false memories|theory of mind|procrastination|subjective well-being|cognitive load|
            childhood adversity|intrinsic motivation|body image"""),
        "settings": _w("""young children|adolescents|college students|older adults|clinical samples|
            bilingual speakers|online samples|twins|patients with schizophrenia|military personnel|employees|
            preschoolers|romantic couples"""),
        "methods": _w("""meta-analysis|longitudinal study|experimental study|daily diary study|
            preregistered replication|eye-tracking study|multilevel analysis|latent profile analysis"""),
    },
    "education": {
        "topics": _w("""formative assessment|teacher professional development|reading comprehension|
            mathematics achievement|inquiry-based learning|classroom discourse|school choice|online learning|
            student engagement|peer tutoring|curriculum reform|inclusive education|teacher retention|
            early literacy|feedback|educational technology|academic motivation|homework|grade retention|
            vocational education|higher education access|bilingual education|flipped classrooms|
            school leadership|science identity"""),
        "settings": _w("""primary schools|secondary schools|urban districts|rural schools|pre-service teachers|
            first-generation students|community colleges|Finland|South Africa|English language learners|
            middle school|universities|Chile"""),
        "methods": _w("""mixed-methods study|cluster randomized trial|qualitative case study|systematic review|
            design-based research|survey study|longitudinal analysis"""),
    },
    "history": {
        "topics": _w("""the Atlantic slave trade|urban reform|the Reformation|colonial administration|
            the welfare state|labour movements|the Cold War|popular religion|the printing press|public health|
            the Industrial Revolution|empire and trade|women's suffrage|the French Revolution|famine relief|
            nationalism|missionary societies|the Hanseatic League|merchant networks|medieval pilgrimage|
            the Weimar Republic|decolonization|the Ottoman Empire|the Meiji Restoration|rural protest|
            military medicine|court culture|the grain trade|charity and poor relief"""),
        "settings": _w("""early modern England|Victorian London|colonial India|nineteenth-century France|
            medieval Italy|the Habsburg monarchy|the American South|interwar Europe|late imperial China|
            the Dutch Republic|Ottoman Egypt|West Africa|the Baltic|Tokugawa Japan|Spanish America|
            Renaissance Florence|Restoration Scotland"""),
        "methods": _w("""microhistory|comparative perspective|social history|reassessment|case study|
            prosopographical study"""),
    },
    "literature": {
        "topics": _w("""the Gothic novel|Romantic poetry|the sonnet|modernist fiction|Shakespeare's late plays|
            Victorian periodicals|the epistolary novel|ecocriticism|narrative voice|translation|allegory|
            the pastoral|memory and trauma|free indirect discourse|the lyric|satire|the realist novel|elegy|
            irony|the sublime|Pound's Cantos|Joyce's Ulysses|Dickinson's letters|Woolf's essays|Milton's prose|
            Dante's Commedia|Goethe's Faust|Baudelaire's prose poems|Austen's heroines|Melville's late fiction|
            the detective story|the verse epistle"""),
        "settings": _w("""the eighteenth century|the Harlem Renaissance|postcolonial literature|
            early modern drama|contemporary fiction|American modernism|Irish writing|the nineteenth-century novel|
            Caribbean poetry|German Romanticism|the little magazines|Restoration comedy"""),
        "methods": _w("""close reading|reassessment|comparative reading|archival study|critical introduction"""),
    },
    "law": {
        "topics": _w("""judicial review|constitutional interpretation|privacy|contract remedies|the rule of law|
            corporate liability|human rights|administrative discretion|intellectual property|copyright|
            antitrust enforcement|criminal sentencing|international arbitration|the duty of care|data protection|
            asylum law|environmental regulation|tort reform|legal pluralism|proportionality|standing|
            plea bargaining|investor-state dispute settlement|fiduciary duties"""),
        "settings": _w("""the European Union|the Supreme Court|common law jurisdictions|the United Kingdom|
            international law|the digital economy|Canada|the WTO|South Africa|German constitutional law|
            federal courts"""),
        "methods": _w("""empirical study|doctrinal analysis|comparative analysis|critique|normative account"""),
    },
    "linguistics": {
        "topics": _w("""vowel harmony|code-switching|relative clauses|evidentiality|tone sandhi|language contact|
            word order|grammaticalization|the acquisition of tense|speech rhythm|politeness|discourse markers|
            ergativity|prosodic phrasing|lexical stress|negation|definiteness|second language writing|
            language attitudes|morphological productivity|syntactic priming|serial verb constructions|
            clitic placement|dialect levelling|sign language phonology|vowel reduction|noun incorporation"""),
        "settings": _w("""Mandarin Chinese|Basque|Swahili|Quechua|Old English|Finnish|Yoruba|child language|
            heritage speakers|Brazilian Portuguese|Tagalog|Welsh|spoken corpora|Hindi|Turkish|Navajo|
            urban vernaculars|L2 learners of English|Early Modern Dutch"""),
        "methods": _w("""corpus study|experimental study|typological survey|acoustic analysis|usage-based account|
            optimality-theoretic analysis|sociophonetic study"""),
    },
    "sociology": {
        "topics": _w("""social capital|residential segregation|gender inequality|educational attainment|
            immigrant integration|civic participation|youth unemployment|family formation|religious attendance|
            neighbourhood effects|social networks|class mobility|trust in institutions|homelessness|care work|
            political polarization|online activism"""),
        "settings": _w("""European cities|the United States|post-socialist societies|immigrant families|
            urban neighbourhoods|Scandinavia|Chinese migrants|Mexico City|small towns"""),
        "methods": _w("""multilevel analysis|ethnographic study|panel study|comparative analysis|
            qualitative study|survey experiment"""),
    },
}

# Frames in sentence case. {A} {B} topics, {P} a setting, {M} a method, {X} an abstract noun.
FRAMES = _w("""{A} in {P}|The role of {A} in {B}|Effects of {A} on {B}|{A} and {B}|Toward a theory of {A}|
    Rethinking {A}|Does {A} affect {B}?|Is {A} associated with {B}?|{A} revisited|New perspectives on {A}|
    {A}, {B}, and {C}|Measuring {A} in {P}|Beyond {A}|What drives {A}?|The {X} of {A}|A {M} of {A} in {P}|
    {A} and {B} in {P}|Why {A} matters for {B}|{A} among {P}|Understanding {A}|Explaining {A} in {P}|
    When does {A} shape {B}?|The {X} of {A} in {P}|{A} as a predictor of {B}|Linking {A} and {B}""")
FRAMES_BY_DISC: dict[str, list[str]] = {
    "physics": _w("""Observation of {A} in {P}|Anomalous {A} in {P}|Theory of {A} in {P}|Evidence for {A} in {P}|
        Direct measurement of {A}|Signatures of {A} in {P}|Tunable {A} in {P}"""),
    "chemistry": _w("""Mechanism of {A} in {P}|Design of {A} for {B}|{A} under {P}|Tuning {A} in {P}"""),
    "cs": _w("""Efficient {A} for {P}|Scalable {A} with {T}|Towards robust {A}|{A} via {T}|
        A fast algorithm for {A}|{N}: a framework for {A}|Learning {A} from {P}|{N}: {A} for {P}"""),
    "history": _w("""{A} in {P}, {Y}|The politics of {A} in {P}|The making of {A}|{A} and the state in {P}"""),
    "literature": _w("""Reading {A}|{A} and the {X} of {B}|'{Q}': {A} in {P}|{A} after {P}"""),
    "law": _w("""{A} and the {B}|The limits of {A}|{A} after {E}|Rethinking {A} in {P}"""),
    "linguistics": _w("""On {A} in {P}|The syntax of {A}|{A} in {P}: a {M}|The typology of {A}"""),
}
SUBTITLES = _w("""evidence from {P}|a {M}|a {M} in {P}|implications for {B}|lessons from {P}|the case of {P}|
    a review|results from a {M}|theory and practice|a comparative analysis|a critical review|
    challenges and opportunities|an overview|new evidence|an integrative framework|a {M} of {P}""")
ABSTRACT_NOUNS = _w("dynamics|politics|limits|economics|origins|measurement|future|ethics|geography|logic|"
                    "persistence|paradox|uses|costs")
CS_TECH = _w("""attention mechanisms|contrastive learning|randomized sketches|symbolic execution|gradient compression|
    linear programming|Bloom filters|hierarchical clustering|Bayesian optimization|graph partitioning|
    incremental indexing|learned hash functions""")
CS_SYLL = _w("Flex|Tiny|Deep|Swift|Graph|Hydra|Quill|Nimbus|Sparse|Kite|Echo|Lumen|Orca|Prism|Tensor|Vela")
CS_SYLL2 = _w("Net|Cache|Mind|Store|Flow|Lens|DB|Map|Sched|Gen|Bench|Trace|Sync|Rank")
LIT_QUOTES = _w("""A world elsewhere|Lines of flight|A long silence|The glass and the river|Small hours|
    Counting the tides|Some other weather|Not in the archive|A borrowed voice|Salt and ash""")
LAW_EVENTS = _w("Brexit|the financial crisis|the pandemic|the Lisbon Treaty|the Human Rights Act")

BOOK_FRAMES = _w("""{A}: {S}|{A} in {P}|Handbook of {A}|An introduction to {A}|Principles of {A}|
    {A}: theory, research, and practice|The {X} of {A}|Understanding {A}|{A} and {B}|{A}: a history|
    The {X} of {A}: {S}|Foundations of {A}|{A} in {P}: {S}""")
CONTAINER_FRAMES = _w("""Handbook of {A}|The Oxford handbook of {A}|Advances in {A}|Perspectives on {A}|
    {A}: new directions|Essays on {A}|Encyclopedia of {A}|Research methods in {A}|The Routledge companion to {A}|
    {A} and {B}: critical essays|New approaches to {A}|The politics of {A}""")

# ---------------------------------------------------------------- titles (German, French)
DE_TOPICS = _w("""Bildungsungleichheit|soziale Mobilität|politische Partizipation|Migration|Arbeitsmarktpolitik|
    Familienpolitik|Sprachwandel|Erinnerungskultur|Wissenschaftsgeschichte|Lehrerbildung|Digitalisierung|
    Rechtsstaatlichkeit|Gesundheitsversorgung|Stadtentwicklung|Bürgerbeteiligung|Mehrsprachigkeit|
    Schulentwicklung|Armut|Religion|Medienwandel|Reformation|Wertewandel|Lesekompetenz|Inklusion|Klimapolitik|
    Fachkräftemangel|Jugendkultur|Pflegearbeit|Wohnungspolitik|Integration|Grammatikalisierung|Romantik""")
DE_PLACES = _w("""in Deutschland|in Europa|in der DDR|im 19. Jahrhundert|in der Frühen Neuzeit|im internationalen Vergleich|
    in Ostdeutschland|in der Schweiz|in Österreich|im ländlichen Raum|in der Weimarer Republik|nach 1945""")
DE_SUBS = _w("""Eine empirische Untersuchung|Eine Bestandsaufnahme|Theorie und Praxis|Ein Überblick|
    Befunde einer Längsschnittstudie|Eine Fallstudie|Ergebnisse einer repräsentativen Befragung|
    Probleme und Perspektiven|Eine historische Skizze|Grundlagen und Anwendungen|Eine Einführung|
    Analysen und Befunde|Ein Forschungsüberblick""")
DE_FRAMES = _w("""{A} {O}|{A} und {B}|{A} im Wandel|{A} als Herausforderung|{A} und {B} {O}|Neue Perspektiven auf {A}|
    Was ist {A}?|{A} {O} im Vergleich""")
FR_TOPICS = _w("""la mobilité sociale|les inégalités scolaires|l'immigration|la laïcité|le travail ouvrier|la ville|
    l'État social|la mémoire collective|les politiques publiques|la santé mentale|le roman réaliste|la poésie lyrique|
    la langue parlée|l'enseignement supérieur|la Révolution française|les élites locales|le syndicalisme|
    la presse régionale|l'économie sociale|la famille|le corps|la jeunesse|les migrations|la décentralisation|
    la lecture|le théâtre classique|la médecine de ville""")
FR_SUBS = _w("""une enquête|approche comparative|essai d'interprétation|une histoire sociale|enjeux et perspectives|
    bilan et perspectives|le cas lyonnais|le cas marseillais|une approche quantitative|sources et méthodes|
    entre continuité et rupture|une sociologie des pratiques""")
FR_FRAMES = _w("""{A} en France|{A} au XIXe siècle|{A} dans l'Europe contemporaine|{A} et {B}|Penser {A}|Repenser {A}|
    Comprendre {A}|{A} sous la Troisième République|{A} en Afrique de l'Ouest""")

# ---------------------------------------------------------------- journals
# (full name, dotted ISO-style abbreviation or "", discipline). Vancouver forms drop the dots.
JOURNALS: list[tuple[str, str, str]] = [
    # medicine
    ("New England Journal of Medicine", "N. Engl. J. Med.", "medicine"), ("The Lancet", "Lancet", "medicine"),
    ("JAMA", "JAMA", "medicine"), ("BMJ", "BMJ", "medicine"),
    ("Annals of Internal Medicine", "Ann. Intern. Med.", "medicine"),
    ("American Journal of Epidemiology", "Am. J. Epidemiol.", "medicine"), ("Circulation", "Circulation", "medicine"),
    ("Journal of Clinical Oncology", "J. Clin. Oncol.", "medicine"), ("Pediatrics", "Pediatrics", "medicine"),
    ("American Journal of Public Health", "Am. J. Public Health", "medicine"),
    ("International Journal of Epidemiology", "Int. J. Epidemiol.", "medicine"),
    ("Journal of Infectious Diseases", "J. Infect. Dis.", "medicine"),
    ("Clinical Infectious Diseases", "Clin. Infect. Dis.", "medicine"), ("Diabetes Care", "Diabetes Care", "medicine"),
    ("Neurology", "Neurology", "medicine"), ("Stroke", "Stroke", "medicine"),
    ("Journal of Hypertension", "J. Hypertens.", "medicine"), ("European Heart Journal", "Eur. Heart J.", "medicine"),
    ("Thorax", "Thorax", "medicine"), ("Journal of Pediatrics", "J. Pediatr.", "medicine"),
    ("Obstetrics and Gynecology", "Obstet. Gynecol.", "medicine"), ("BMC Public Health", "BMC Public Health", "medicine"),
    ("PLoS Medicine", "PLoS Med.", "medicine"), ("Journal of Clinical Investigation", "J. Clin. Invest.", "medicine"),
    ("Archives of Disease in Childhood", "Arch. Dis. Child.", "medicine"),
    ("Scandinavian Journal of Primary Health Care", "Scand. J. Prim. Health Care", "medicine"),
    ("Journal of Rural Clinical Practice", "", "medicine"), ("Critical Care Medicine", "Crit. Care Med.", "medicine"),
    # biology
    ("Nature", "Nature", "biology"), ("Science", "Science", "biology"), ("Cell", "Cell", "biology"),
    ("Proceedings of the National Academy of Sciences of the United States of America",
     "Proc. Natl. Acad. Sci. USA", "biology"),
    ("PLoS Biology", "PLoS Biol.", "biology"), ("Current Biology", "Curr. Biol.", "biology"),
    ("Molecular Biology and Evolution", "Mol. Biol. Evol.", "biology"), ("Genome Research", "Genome Res.", "biology"),
    ("Nucleic Acids Research", "Nucleic Acids Res.", "biology"),
    ("Journal of Biological Chemistry", "J. Biol. Chem.", "biology"), ("Ecology", "Ecology", "biology"),
    ("Ecology Letters", "Ecol. Lett.", "biology"), ("Journal of Ecology", "J. Ecol.", "biology"),
    ("Evolution", "Evolution", "biology"), ("American Naturalist", "Am. Nat.", "biology"),
    ("Molecular Ecology", "Mol. Ecol.", "biology"), ("Developmental Biology", "Dev. Biol.", "biology"),
    ("Journal of Experimental Biology", "J. Exp. Biol.", "biology"), ("Plant Physiology", "Plant Physiol.", "biology"),
    ("Journal of Bacteriology", "J. Bacteriol.", "biology"), ("Oecologia", "Oecologia", "biology"),
    ("Journal of Animal Ecology", "J. Anim. Ecol.", "biology"), ("eLife", "eLife", "biology"),
    ("Annals of Applied Field Botany", "", "biology"),
    # chemistry
    ("Journal of the American Chemical Society", "J. Am. Chem. Soc.", "chemistry"),
    ("Angewandte Chemie International Edition", "Angew. Chem. Int. Ed.", "chemistry"),
    ("Journal of Organic Chemistry", "J. Org. Chem.", "chemistry"), ("Inorganic Chemistry", "Inorg. Chem.", "chemistry"),
    ("Journal of Physical Chemistry A", "J. Phys. Chem. A", "chemistry"), ("Chemical Reviews", "Chem. Rev.", "chemistry"),
    ("Organic Letters", "Org. Lett.", "chemistry"), ("Langmuir", "Langmuir", "chemistry"),
    ("Analytical Chemistry", "Anal. Chem.", "chemistry"), ("Journal of Chemical Physics", "J. Chem. Phys.", "chemistry"),
    ("Chemistry of Materials", "Chem. Mater.", "chemistry"), ("Green Chemistry", "Green Chem.", "chemistry"),
    # physics
    ("Physical Review Letters", "Phys. Rev. Lett.", "physics"), ("Physical Review B", "Phys. Rev. B", "physics"),
    ("Physical Review D", "Phys. Rev. D", "physics"), ("Physical Review E", "Phys. Rev. E", "physics"),
    ("Journal of Applied Physics", "J. Appl. Phys.", "physics"), ("Applied Physics Letters", "Appl. Phys. Lett.", "physics"),
    ("Nature Physics", "Nat. Phys.", "physics"), ("Reviews of Modern Physics", "Rev. Mod. Phys.", "physics"),
    ("Astrophysical Journal", "Astrophys. J.", "physics"),
    ("Monthly Notices of the Royal Astronomical Society", "Mon. Not. R. Astron. Soc.", "physics"),
    ("Journal of Fluid Mechanics", "J. Fluid Mech.", "physics"), ("Optics Letters", "Opt. Lett.", "physics"),
    ("Optics Express", "Opt. Express", "physics"), ("New Journal of Physics", "New J. Phys.", "physics"),
    ("Nuclear Physics B", "Nucl. Phys. B", "physics"), ("Physics of Fluids", "Phys. Fluids", "physics"),
    ("Europhysics Letters", "Europhys. Lett.", "physics"), ("Zeitschrift für Physik", "Z. Phys.", "physics"),
    # computer science
    ("Communications of the ACM", "Commun. ACM", "cs"), ("Journal of the ACM", "J. ACM", "cs"),
    ("IEEE Transactions on Pattern Analysis and Machine Intelligence", "IEEE Trans. Pattern Anal. Mach. Intell.", "cs"),
    ("IEEE Transactions on Information Theory", "IEEE Trans. Inf. Theory", "cs"),
    ("IEEE Transactions on Software Engineering", "IEEE Trans. Softw. Eng.", "cs"),
    ("IEEE Transactions on Signal Processing", "IEEE Trans. Signal Process.", "cs"),
    ("IEEE Transactions on Neural Networks and Learning Systems", "IEEE Trans. Neural Netw. Learn. Syst.", "cs"),
    ("IEEE Transactions on Communications", "IEEE Trans. Commun.", "cs"),
    ("IEEE Transactions on Power Systems", "IEEE Trans. Power Syst.", "cs"),
    ("IEEE Journal of Solid-State Circuits", "IEEE J. Solid-State Circuits", "cs"),
    ("Machine Learning", "Mach. Learn.", "cs"), ("Journal of Machine Learning Research", "J. Mach. Learn. Res.", "cs"),
    ("Artificial Intelligence", "Artif. Intell.", "cs"), ("Neural Computation", "Neural Comput.", "cs"),
    ("ACM Computing Surveys", "ACM Comput. Surv.", "cs"), ("ACM Transactions on Graphics", "ACM Trans. Graph.", "cs"),
    ("Computational Linguistics", "Comput. Linguist.", "cs"),
    ("Information Processing Letters", "Inf. Process. Lett.", "cs"),
    ("Theoretical Computer Science", "Theor. Comput. Sci.", "cs"), ("SIAM Journal on Computing", "SIAM J. Comput.", "cs"),
    ("Bioinformatics", "Bioinformatics", "cs"), ("Pattern Recognition", "Pattern Recognit.", "cs"),
    ("Computer Networks", "Comput. Netw.", "cs"), ("Journal of Systems and Software", "J. Syst. Softw.", "cs"),
    ("Proceedings of the IEEE", "Proc. IEEE", "cs"), ("Journal of Distributed Computing Practice", "", "cs"),
    # economics, sociology
    ("American Economic Review", "Am. Econ. Rev.", "economics"), ("Quarterly Journal of Economics", "Q. J. Econ.", "economics"),
    ("Journal of Political Economy", "J. Polit. Econ.", "economics"), ("Econometrica", "Econometrica", "economics"),
    ("Review of Economic Studies", "Rev. Econ. Stud.", "economics"), ("Journal of Finance", "J. Finance", "economics"),
    ("Journal of Financial Economics", "J. Financ. Econ.", "economics"),
    ("Journal of Development Economics", "J. Dev. Econ.", "economics"),
    ("Journal of Public Economics", "J. Public Econ.", "economics"), ("Economic Journal", "Econ. J.", "economics"),
    ("Journal of Labor Economics", "J. Labor Econ.", "economics"), ("World Development", "World Dev.", "economics"),
    ("Journal of International Economics", "J. Int. Econ.", "economics"),
    ("Journal of Economic Perspectives", "J. Econ. Perspect.", "economics"),
    ("Ecological Economics", "Ecol. Econ.", "economics"), ("Management Science", "Manag. Sci.", "economics"),
    ("Strategic Management Journal", "Strateg. Manag. J.", "economics"),
    ("Review of Regional Development Studies", "", "economics"),
    ("American Sociological Review", "Am. Sociol. Rev.", "sociology"),
    ("American Journal of Sociology", "Am. J. Sociol.", "sociology"), ("Social Forces", "Soc. Forces", "sociology"),
    ("European Sociological Review", "Eur. Sociol. Rev.", "sociology"), ("Sociology", "Sociology", "sociology"),
    ("Journal of Marriage and Family", "J. Marriage Fam.", "sociology"), ("Urban Studies", "Urban Stud.", "sociology"),
    ("Social Problems", "Soc. Probl.", "sociology"),
    # psychology
    ("Psychological Review", "Psychol. Rev.", "psychology"), ("Psychological Bulletin", "Psychol. Bull.", "psychology"),
    ("Journal of Personality and Social Psychology", "J. Pers. Soc. Psychol.", "psychology"),
    ("Psychological Science", "Psychol. Sci.", "psychology"),
    ("Journal of Experimental Psychology: General", "J. Exp. Psychol. Gen.", "psychology"),
    ("Cognition", "Cognition", "psychology"), ("Cognitive Psychology", "Cogn. Psychol.", "psychology"),
    ("Developmental Psychology", "Dev. Psychol.", "psychology"), ("Child Development", "Child Dev.", "psychology"),
    ("Journal of Abnormal Psychology", "J. Abnorm. Psychol.", "psychology"),
    ("Journal of Applied Psychology", "J. Appl. Psychol.", "psychology"),
    ("Memory & Cognition", "Mem. Cognit.", "psychology"), ("Journal of Memory and Language", "J. Mem. Lang.", "psychology"),
    ("Behavior Research Methods", "Behav. Res. Methods", "psychology"), ("Emotion", "Emotion", "psychology"),
    ("Journal of Consulting and Clinical Psychology", "J. Consult. Clin. Psychol.", "psychology"),
    ("Personality and Individual Differences", "Pers. Individ. Dif.", "psychology"),
    ("Neuropsychologia", "Neuropsychologia", "psychology"),
    # education
    ("Review of Educational Research", "Rev. Educ. Res.", "education"),
    ("American Educational Research Journal", "Am. Educ. Res. J.", "education"),
    ("Journal of Educational Psychology", "J. Educ. Psychol.", "education"),
    ("Educational Researcher", "Educ. Res.", "education"),
    ("Teaching and Teacher Education", "Teach. Teach. Educ.", "education"),
    ("Computers & Education", "Comput. Educ.", "education"), ("Learning and Instruction", "Learn. Instr.", "education"),
    ("Journal of Research in Science Teaching", "J. Res. Sci. Teach.", "education"),
    ("Harvard Educational Review", "", "education"), ("Higher Education", "High. Educ.", "education"),
    ("British Journal of Educational Technology", "Br. J. Educ. Technol.", "education"),
    ("Studies in Higher Education", "Stud. High. Educ.", "education"), ("Journal of Teacher Education", "", "education"),
    ("Early Childhood Research Quarterly", "", "education"),
    # history
    ("American Historical Review", "Am. Hist. Rev.", "history"), ("Journal of Modern History", "J. Mod. Hist.", "history"),
    ("Past & Present", "", "history"), ("English Historical Review", "Engl. Hist. Rev.", "history"),
    ("Journal of Social History", "J. Soc. Hist.", "history"), ("History Workshop Journal", "", "history"),
    ("Journal of Economic History", "J. Econ. Hist.", "history"), ("Historical Journal", "Hist. J.", "history"),
    ("Journal of British Studies", "J. Br. Stud.", "history"), ("French Historical Studies", "Fr. Hist. Stud.", "history"),
    ("Central European History", "", "history"), ("Journal of World History", "J. World Hist.", "history"),
    ("Speculum", "", "history"), ("Journal of the History of Ideas", "J. Hist. Ideas", "history"),
    ("Technology and Culture", "", "history"), ("Journal of Urban History", "", "history"),
    # literature
    ("PMLA", "", "literature"), ("Modern Philology", "Mod. Philol.", "literature"),
    ("Review of English Studies", "Rev. Engl. Stud.", "literature"), ("ELH", "", "literature"),
    ("Modern Language Review", "Mod. Lang. Rev.", "literature"), ("Studies in Romanticism", "Stud. Romant.", "literature"),
    ("Victorian Studies", "", "literature"), ("Comparative Literature", "Comp. Lit.", "literature"),
    ("Journal of Modern Literature", "J. Mod. Lit.", "literature"), ("Shakespeare Quarterly", "Shakespeare Q.", "literature"),
    ("Critical Inquiry", "Crit. Inq.", "literature"), ("New Literary History", "New Lit. Hist.", "literature"),
    ("Twentieth-Century Literature", "", "literature"), ("Modernism/modernity", "", "literature"),
    ("Renaissance Quarterly", "Renaiss. Q.", "literature"), ("Paideuma", "", "literature"),
    # law
    ("Harvard Law Review", "Harv. L. Rev.", "law"), ("Yale Law Journal", "Yale L.J.", "law"),
    ("Columbia Law Review", "Colum. L. Rev.", "law"), ("Stanford Law Review", "Stan. L. Rev.", "law"),
    ("Michigan Law Review", "Mich. L. Rev.", "law"), ("Modern Law Review", "Mod. L. Rev.", "law"),
    ("Cambridge Law Journal", "Camb. L.J.", "law"), ("Law & Society Review", "Law Soc. Rev.", "law"),
    ("Oxford Journal of Legal Studies", "Oxf. J. Leg. Stud.", "law"),
    ("European Journal of International Law", "Eur. J. Int. Law", "law"),
    ("American Journal of International Law", "Am. J. Int. Law", "law"),
    ("Journal of Law and Economics", "J. Law Econ.", "law"), ("Common Market Law Review", "Common Mkt. L. Rev.", "law"),
    # linguistics
    ("Language", "Language", "linguistics"), ("Linguistic Inquiry", "Linguist. Inq.", "linguistics"),
    ("Journal of Linguistics", "J. Linguist.", "linguistics"),
    ("Natural Language and Linguistic Theory", "Nat. Lang. Linguist. Theory", "linguistics"),
    ("Lingua", "Lingua", "linguistics"), ("Journal of Phonetics", "J. Phon.", "linguistics"),
    ("Journal of Pragmatics", "J. Pragmat.", "linguistics"), ("Language in Society", "Lang. Soc.", "linguistics"),
    ("Applied Linguistics", "Appl. Linguist.", "linguistics"),
    ("Studies in Second Language Acquisition", "Stud. Second Lang. Acquis.", "linguistics"),
    ("Journal of Child Language", "J. Child Lang.", "linguistics"), ("Language Learning", "Lang. Learn.", "linguistics"),
    ("Linguistics and Philosophy", "Linguist. Philos.", "linguistics"), ("Journal of Semantics", "J. Semant.", "linguistics"),
    ("Phonology", "Phonology", "linguistics"), ("Diachronica", "", "linguistics"), ("Folia Linguistica", "", "linguistics"),
]
# German and French periodicals (name, discipline); printed in full.
DE_JOURNALS = _w("""Zeitschrift für Soziologie|Kölner Zeitschrift für Soziologie und Sozialpsychologie|Zeitschrift für Pädagogik|
    Historische Zeitschrift|Geschichte und Gesellschaft|Zeitschrift für Sprachwissenschaft|
    Deutsche Vierteljahrsschrift für Literaturwissenschaft und Geistesgeschichte|Zeitschrift für Psychologie|
    Psychologische Rundschau|Deutsches Ärzteblatt|Der Nervenarzt|Juristenzeitung|Neue Juristische Wochenschrift|
    Vierteljahrshefte für Zeitgeschichte|Zeitschrift für Germanistik|Jahrbücher für Nationalökonomie und Statistik|
    Zeitschrift für Erziehungswissenschaft|Leviathan|Merkur|Archiv für Sozialgeschichte|Sprachwissenschaft|
    Berliner Journal für Soziologie""")
FR_JOURNALS = _w("""Revue française de sociologie|Annales. Histoire, Sciences sociales|Revue historique|
    Revue d'économie politique|L'Année psychologique|Revue française de pédagogie|Langue française|Romantisme|
    Littérature|Poétique|Revue de synthèse|Le Mouvement social|Revue économique|La Presse médicale|
    Revue d'histoire moderne et contemporaine|Cahiers d'études africaines|Population|Revue française de science politique|
    Actes de la recherche en sciences sociales|Genèses""")
NEWSPAPERS: list[tuple[str, str]] = [
    ("The New York Times", "nytimes.com"), ("The Guardian", "theguardian.com"), ("The Washington Post", "washingtonpost.com"),
    ("Financial Times", "ft.com"), ("The Economist", "economist.com"), ("Le Monde", "lemonde.fr"),
    ("Süddeutsche Zeitung", "sueddeutsche.de"), ("Frankfurter Allgemeine Zeitung", "faz.net"),
    ("The Times of India", "timesofindia.indiatimes.com"), ("The Globe and Mail", "theglobeandmail.com"),
    ("The Sydney Morning Herald", "smh.com.au"), ("The Atlantic", "theatlantic.com"), ("Wired", "wired.com"),
    ("Scientific American", "scientificamerican.com"), ("New Scientist", "newscientist.com"), ("BBC News", "bbc.co.uk"),
    ("The Irish Times", "irishtimes.com"), ("Die Zeit", "zeit.de"), ("Libération", "liberation.fr"),
    ("The Hindu", "thehindu.com"), ("Mail & Guardian", "mg.co.za"), ("Harbourside Gazette", "harbourside-gazette.com"),
]

# ---------------------------------------------------------------- places and publishers
# City -> (US state abbreviation or "", country).
CITIES: dict[str, tuple[str, str]] = {
    "New York": ("NY", "USA"), "Boston": ("MA", "USA"), "Cambridge, MA": ("MA", "USA"), "Chicago": ("IL", "USA"),
    "Philadelphia": ("PA", "USA"), "Baltimore": ("MD", "USA"), "New Haven": ("CT", "USA"), "Princeton": ("NJ", "USA"),
    "Berkeley": ("CA", "USA"), "Stanford": ("CA", "USA"), "Los Angeles": ("CA", "USA"), "San Francisco": ("CA", "USA"),
    "San Diego": ("CA", "USA"), "Thousand Oaks": ("CA", "USA"), "Sebastopol": ("CA", "USA"), "Washington": ("DC", "USA"),
    "Ithaca": ("NY", "USA"), "Durham": ("NC", "USA"), "Chapel Hill": ("NC", "USA"), "Ann Arbor": ("MI", "USA"),
    "Madison": ("WI", "USA"), "Minneapolis": ("MN", "USA"), "Austin": ("TX", "USA"), "Houston": ("TX", "USA"),
    "Seattle": ("WA", "USA"), "Hoboken": ("NJ", "USA"), "Mahwah": ("NJ", "USA"), "Hillsdale": ("NJ", "USA"),
    "Upper Saddle River": ("NJ", "USA"), "Englewood Cliffs": ("NJ", "USA"), "Lanham": ("MD", "USA"),
    "Boca Raton": ("FL", "USA"), "Pittsburgh": ("PA", "USA"), "St. Louis": ("MO", "USA"), "Urbana": ("IL", "USA"),
    "Bloomington": ("IN", "USA"), "Columbus": ("OH", "USA"), "Atlanta": ("GA", "USA"), "Reading": ("MA", "USA"),
    "Norwood": ("MA", "USA"), "Santa Monica": ("CA", "USA"), "Golden": ("CO", "USA"), "Piscataway": ("NJ", "USA"),
    "Murray Hill": ("NJ", "USA"), "Los Alamos": ("NM", "USA"), "Bonn": ("", "Germany"),
    "London": ("", "UK"), "Oxford": ("", "UK"), "Cambridge": ("", "UK"), "Edinburgh": ("", "UK"),
    "Manchester": ("", "UK"), "Basingstoke": ("", "UK"), "Cheltenham": ("", "UK"), "Abingdon": ("", "UK"),
    "Amsterdam": ("", "Netherlands"), "Leiden": ("", "Netherlands"), "Dordrecht": ("", "Netherlands"),
    "Berlin": ("", "Germany"), "Heidelberg": ("", "Germany"), "Cham": ("", "Switzerland"), "Basel": ("", "Switzerland"),
    "Geneva": ("", "Switzerland"), "Paris": ("", "France"), "Singapore": ("", "Singapore"), "Tokyo": ("", "Japan"),
    "Toronto": ("", "Canada"), "Montreal": ("", "Canada"), "Sydney": ("", "Australia"), "Melbourne": ("", "Australia"),
    "Stockholm": ("", "Sweden"), "Copenhagen": ("", "Denmark"), "Oslo": ("", "Norway"), "Helsinki": ("", "Finland"),
    "Vienna": ("", "Austria"), "Madrid": ("", "Spain"), "Barcelona": ("", "Spain"), "Milan": ("", "Italy"),
    "Rome": ("", "Italy"), "Bologna": ("", "Italy"), "Lisbon": ("", "Portugal"), "São Paulo": ("", "Brazil"),
    "Buenos Aires": ("", "Argentina"), "Mexico City": ("", "Mexico"), "Cape Town": ("", "South Africa"),
    "Johannesburg": ("", "South Africa"), "Nairobi": ("", "Kenya"), "New Delhi": ("", "India"), "Mumbai": ("", "India"),
    "Beijing": ("", "China"), "Shanghai": ("", "China"), "Seoul": ("", "South Korea"), "Hong Kong": ("", "China"),
    "Vancouver": ("", "Canada"), "Kyoto": ("", "Japan"), "Prague": ("", "Czech Republic"), "Warsaw": ("", "Poland"),
}
US_STATE_OLD = {"MA": "Mass.", "CA": "Calif.", "NJ": "N.J.", "NY": "N.Y.", "IL": "Ill.", "PA": "Pa.",
                "CT": "Conn.", "MD": "Md.", "NC": "N.C.", "MI": "Mich.", "WI": "Wis.", "MN": "Minn.",
                "TX": "Tex.", "WA": "Wash.", "FL": "Fla.", "MO": "Mo.", "IN": "Ind.", "OH": "Ohio",
                "GA": "Ga.", "CO": "Colo.", "DC": "D.C.", "NM": "N.M."}

# (publisher, home cities, short form used by some styles or "")
PUBLISHERS: list[tuple[str, list[str], str]] = [
    ("Oxford University Press", ["Oxford", "New York"], "OUP"), ("Cambridge University Press", ["Cambridge", "New York"], "CUP"),
    ("Harvard University Press", ["Cambridge, MA"], ""), ("Yale University Press", ["New Haven"], ""),
    ("Princeton University Press", ["Princeton"], ""), ("University of Chicago Press", ["Chicago"], ""),
    ("MIT Press", ["Cambridge, MA"], ""), ("Stanford University Press", ["Stanford"], ""),
    ("University of California Press", ["Berkeley"], ""), ("Columbia University Press", ["New York"], ""),
    ("Johns Hopkins University Press", ["Baltimore"], ""), ("Cornell University Press", ["Ithaca"], ""),
    ("Duke University Press", ["Durham"], ""), ("Edinburgh University Press", ["Edinburgh"], ""),
    ("Manchester University Press", ["Manchester"], ""), ("Routledge", ["London", "New York", "Abingdon"], ""),
    ("Springer", ["Berlin", "New York", "Cham", "Heidelberg"], ""), ("Springer-Verlag", ["Berlin", "New York"], ""),
    ("Elsevier", ["Amsterdam"], ""), ("Academic Press", ["San Diego", "New York"], ""),
    ("Wiley", ["Hoboken"], ""), ("John Wiley & Sons", ["New York", "Hoboken"], "Wiley"),
    ("Wiley-Blackwell", ["Oxford"], ""), ("Blackwell", ["Oxford"], ""),
    ("Palgrave Macmillan", ["Basingstoke", "London", "New York"], ""), ("Macmillan", ["London"], ""),
    ("Sage", ["Thousand Oaks", "London"], ""), ("SAGE Publications", ["Thousand Oaks", "London"], "SAGE"),
    ("Taylor & Francis", ["London"], ""), ("CRC Press", ["Boca Raton"], ""), ("Pearson", ["Upper Saddle River"], ""),
    ("Prentice Hall", ["Englewood Cliffs", "Upper Saddle River"], ""), ("McGraw-Hill", ["New York"], ""),
    ("Addison-Wesley", ["Reading", "Boston"], ""), ("W. W. Norton", ["New York"], "Norton"),
    ("Penguin", ["London"], ""), ("Vintage", ["New York"], ""), ("Basic Books", ["New York"], ""),
    ("Free Press", ["New York"], ""), ("Guilford Press", ["New York"], ""),
    ("Lawrence Erlbaum Associates", ["Mahwah", "Hillsdale"], "Erlbaum"),
    ("American Psychological Association", ["Washington"], ""), ("Brill", ["Leiden"], ""),
    ("De Gruyter", ["Berlin"], ""), ("Mouton de Gruyter", ["Berlin"], ""), ("John Benjamins", ["Amsterdam"], "Benjamins"),
    ("Kluwer Academic Publishers", ["Dordrecht"], "Kluwer"), ("Edward Elgar", ["Cheltenham"], ""),
    ("Rowman & Littlefield", ["Lanham"], ""), ("Rowman and Littlefield", ["Lanham"], ""), ("Lexington Books", ["Lanham"], ""),
    ("Bloomsbury", ["London"], ""), ("Verso", ["London"], ""), ("Polity Press", ["Cambridge"], "Polity"),
    ("World Scientific", ["Singapore"], ""), ("Morgan Kaufmann", ["San Francisco"], ""),
    ("O'Reilly Media", ["Sebastopol"], "O'Reilly"), ("No Starch Press", ["San Francisco"], ""),
    ("Lippincott Williams & Wilkins", ["Philadelphia"], ""), ("Saunders", ["Philadelphia"], ""),
    ("Mosby", ["St. Louis"], ""), ("National Academies Press", ["Washington"], ""),
    ("World Bank", ["Washington"], ""), ("OECD Publishing", ["Paris"], ""), ("University of Toronto Press", ["Toronto"], ""),
    ("McGill-Queen's University Press", ["Montreal"], ""), ("Melbourne University Press", ["Melbourne"], ""),
    ("University of Michigan Press", ["Ann Arbor"], ""), ("University of Illinois Press", ["Urbana"], ""),
    ("Indiana University Press", ["Bloomington"], ""), ("IEEE Press", ["Piscataway"], ""),
    ("Larkspur Academic", ["Edinburgh"], ""), ("Meridian Scholarly Press", ["Toronto"], ""),
]
DE_PUBLISHERS: list[tuple[str, str]] = [
    ("Suhrkamp", "Frankfurt am Main"), ("C. H. Beck", "München"), ("Springer VS", "Wiesbaden"),
    ("Campus", "Frankfurt a. M."), ("Vandenhoeck & Ruprecht", "Göttingen"), ("Mohr Siebeck", "Tübingen"),
    ("Metzler", "Stuttgart"), ("Reclam", "Stuttgart"), ("Klett-Cotta", "Stuttgart"), ("Beltz", "Weinheim"),
    ("Hogrefe", "Göttingen"), ("Westdeutscher Verlag", "Opladen"), ("Leske + Budrich", "Opladen"), ("Narr", "Tübingen"),
    ("Rowohlt", "Reinbek"), ("de Gruyter", "Berlin"), ("Akademie Verlag", "Berlin"), ("transcript", "Bielefeld"),
    ("Böhlau", "Köln"), ("Waxmann", "Münster"), ("Nomos", "Baden-Baden"), ("Wallstein", "Göttingen"),
]
FR_PUBLISHERS: list[tuple[str, str]] = [
    ("Gallimard", "Paris"), ("Seuil", "Paris"), ("Presses universitaires de France", "Paris"), ("PUF", "Paris"),
    ("Armand Colin", "Paris"), ("La Découverte", "Paris"), ("Fayard", "Paris"), ("Éditions de Minuit", "Paris"),
    ("Belin", "Paris"), ("Hachette", "Paris"), ("Flammarion", "Paris"), ("Odile Jacob", "Paris"), ("Dunod", "Paris"),
    ("Presses de Sciences Po", "Paris"), ("Droz", "Genève"), ("CNRS Éditions", "Paris"),
    ("Presses universitaires de Rennes", "Rennes"), ("Presses universitaires de Lyon", "Lyon"), ("ENS Éditions", "Lyon"),
    ("L'Harmattan", "Paris"), ("Presses de l'Université de Montréal", "Montréal"), ("Karthala", "Paris"),
]

UNIVERSITIES: list[tuple[str, str]] = [
    ("University of Michigan", "Ann Arbor"), ("Stanford University", "Stanford"), ("University of Toronto", "Toronto"),
    ("Harvard University", "Cambridge, MA"), ("University of California, Berkeley", "Berkeley"),
    ("University of Oxford", "Oxford"), ("University of Cambridge", "Cambridge"), ("University of Edinburgh", "Edinburgh"),
    ("University of Cape Town", "Cape Town"), ("National University of Singapore", "Singapore"),
    ("University of Melbourne", "Melbourne"), ("McGill University", "Montreal"), ("University of Wisconsin-Madison", "Madison"),
    ("Columbia University", "New York"), ("University of Chicago", "Chicago"), ("Cornell University", "Ithaca"),
    ("Massachusetts Institute of Technology", "Cambridge, MA"), ("Carnegie Mellon University", "Pittsburgh"),
    ("University of Texas at Austin", "Austin"), ("University of Washington", "Seattle"),
    ("University of Amsterdam", "Amsterdam"), ("Leiden University", "Leiden"), ("University of Copenhagen", "Copenhagen"),
    ("University of Helsinki", "Helsinki"), ("Stockholm University", "Stockholm"), ("University of Vienna", "Vienna"),
    ("Universidad de Buenos Aires", "Buenos Aires"), ("Universidade de São Paulo", "São Paulo"),
    ("University of Tokyo", "Tokyo"), ("Seoul National University", "Seoul"), ("Peking University", "Beijing"),
    ("University of Nairobi", "Nairobi"), ("University of Hong Kong", "Hong Kong"), ("Indiana University", "Bloomington"),
    ("University of Illinois at Urbana-Champaign", "Urbana"), ("University of Manchester", "Manchester"),
]
DE_UNIVERSITIES = _w("""Universität Heidelberg|Ludwig-Maximilians-Universität München|Humboldt-Universität zu Berlin|
    Universität Wien|Universität Bielefeld|Universität zu Köln|Freie Universität Berlin|Universität Hamburg|
    Universität Zürich|Technische Universität Dresden|Universität Leipzig|Universität Tübingen""")
FR_UNIVERSITIES = _w("""Université Paris 1 Panthéon-Sorbonne|Université de Lyon|EHESS|Université de Strasbourg|
    Université Lille 3|Université de Montréal|Université libre de Bruxelles|Université Paris Nanterre|
    Université Toulouse - Jean Jaurès|Université de Genève|Université de Rennes 2|Université Grenoble Alpes""")
DE_CITIES = _w("Berlin|München|Frankfurt am Main|Frankfurt a. M.|Stuttgart|Göttingen|Tübingen|Wiesbaden|Leipzig|Hamburg|"
               "Köln|Wien|Zürich|Bielefeld|Münster|Bonn|Dresden|Freiburg i. Br.")
FR_CITIES = _w("Paris|Lyon|Rennes|Lille|Marseille|Toulouse|Bordeaux|Strasbourg|Grenoble|Nancy|Genève|Bruxelles|"
               "Montréal|Québec|Louvain-la-Neuve")

INSTITUTES: list[tuple[str, str]] = [
    ("RAND Corporation", "Santa Monica"), ("National Bureau of Economic Research", "Cambridge, MA"),
    ("World Bank", "Washington"), ("Bell Laboratories", "Murray Hill"),
    ("Carnegie Mellon University", "Pittsburgh"), ("MIT Artificial Intelligence Laboratory", "Cambridge, MA"),
    ("Institute for Fiscal Studies", "London"), ("U.S. Geological Survey", "Washington"),
    ("National Renewable Energy Laboratory", "Golden"), ("Centre for Economic Policy Research", "London"),
    ("Microsoft Research", "Seattle"), ("IBM Research", "New York"), ("Los Alamos National Laboratory", "Los Alamos"),
    ("Stanford InfoLab", "Stanford"), ("University of California, Berkeley", "Berkeley"),
    ("Institute for the Study of Labor", "Bonn"), ("Urban Institute", "Washington"),
    ("International Monetary Fund", "Washington"), ("Computer Laboratory, University of Cambridge", "Cambridge"),
    ("Northgate Policy Institute", "Toronto"), ("Westbrook Centre for Health Economics", "Manchester"),
]
REPORT_GENRES = _w("""Technical Report|Tech. Rep.|Working Paper|Discussion Paper|Research Report|Policy Brief|
    Technical Memorandum|Report|Occasional Paper|Research Paper|White paper""")
THESIS_GENRES = _w("""PhD thesis|Ph.D. dissertation|Doctoral dissertation|Master's thesis|MSc thesis|
    Unpublished doctoral dissertation|MA thesis|Ph.D. thesis|D.Phil. thesis|PhD dissertation""")

SERIES: list[tuple[str, str]] = [
    ("Lecture Notes in Computer Science", "LNCS"), ("Lecture Notes in Artificial Intelligence", "LNAI"),
    ("Communications in Computer and Information Science", "CCIS"), ("Lecture Notes in Physics", "Lect. Notes Phys."),
    ("Advances in Experimental Medicine and Biology", "Adv. Exp. Med. Biol."), ("Springer Series in Statistics", ""),
    ("Cambridge Studies in Linguistics", ""), ("Methods in Molecular Biology", "Methods Mol. Biol."),
    ("Studies in Economic History", ""), ("Oxford Studies in Comparative Syntax", ""), ("Progress in Brain Research", ""),
    ("Contributions to Economics", ""), ("Linguistik Aktuell/Linguistics Today", ""), ("Studies in Language Companion Series", ""),
    ("Current Topics in Microbiology and Immunology", ""), ("Palgrave Studies in Cultural History", ""),
]

# (full conference name, acronym, discipline)
CONFERENCES: list[tuple[str, str, str]] = [
    ("International Conference on Machine Learning", "ICML", "cs"),
    ("Annual Meeting of the Association for Computational Linguistics", "ACL", "cs"),
    ("Conference on Empirical Methods in Natural Language Processing", "EMNLP", "cs"),
    ("IEEE Conference on Computer Vision and Pattern Recognition", "CVPR", "cs"),
    ("ACM SIGMOD International Conference on Management of Data", "SIGMOD", "cs"),
    ("International Conference on Very Large Data Bases", "VLDB", "cs"),
    ("ACM Symposium on Theory of Computing", "STOC", "cs"),
    ("IEEE Symposium on Foundations of Computer Science", "FOCS", "cs"),
    ("ACM Conference on Human Factors in Computing Systems", "CHI", "cs"),
    ("International Conference on Software Engineering", "ICSE", "cs"),
    ("IEEE International Conference on Robotics and Automation", "ICRA", "cs"),
    ("IEEE International Conference on Acoustics, Speech and Signal Processing", "ICASSP", "cs"),
    ("International Joint Conference on Artificial Intelligence", "IJCAI", "cs"),
    ("AAAI Conference on Artificial Intelligence", "AAAI", "cs"),
    ("ACM SIGKDD International Conference on Knowledge Discovery and Data Mining", "KDD", "cs"),
    ("International World Wide Web Conference", "WWW", "cs"),
    ("International Conference on Computational Linguistics", "COLING", "cs"),
    ("European Conference on Computer Vision", "ECCV", "cs"), ("IEEE Global Communications Conference", "GLOBECOM", "cs"),
    ("Design Automation Conference", "DAC", "cs"), ("International Symposium on Computer Architecture", "ISCA", "cs"),
    ("Winter Simulation Conference", "WSC", "cs"), ("International Conference on Learning Representations", "ICLR", "cs"),
    ("USENIX Symposium on Operating Systems Design and Implementation", "OSDI", "cs"),
    ("International Workshop on Sparse Signal Models", "SPARSE", "cs"),
    ("Symposium on Adaptive Edge Systems", "SAES", "cs"),
    ("Annual Conference of the Cognitive Science Society", "CogSci", "psychology"),
    ("Annual Meeting of the Berkeley Linguistics Society", "BLS", "linguistics"),
    ("International Congress of Phonetic Sciences", "ICPhS", "linguistics"),
    ("Annual Conference of the International Group for the Psychology of Mathematics Education", "PME", "education"),
    ("European Conference on Educational Research", "ECER", "education"),
    ("Annual Meeting of the American Educational Research Association", "AERA", "education"),
    ("International Conference on Photonics and Quantum Optics", "PQO", "physics"),
    ("European Conference on Plasma Physics", "EPS", "physics"),
    ("Annual Meeting of the Economic History Association", "EHA", "history"),
    ("International Conference on Green Chemistry", "ICGC", "chemistry"),
]
CONF_ABBR = {"International": "Int.", "Conference": "Conf.", "Symposium": "Symp.", "Annual": "Annu.",
             "Computer": "Comput.", "Computational": "Comput.", "Association": "Assoc.", "Engineering": "Eng.",
             "Information": "Inf.", "Systems": "Syst.", "Society": "Soc.", "European": "Eur.", "Processing": "Process.",
             "Communications": "Commun.", "Automation": "Autom.", "Robotics": "Robot.", "Language": "Lang.",
             "Learning": "Learn.", "Intelligence": "Intell.", "Artificial": "Artif.", "Recognition": "Recognit.",
             "Vision": "Vis.", "Management": "Manage.", "Acoustics": "Acoust.", "Architecture": "Archit.",
             "Foundations": "Found.", "Science": "Sci.", "Theory": "Theory", "Knowledge": "Knowl.",
             "Discovery": "Discov.", "Simulation": "Simul.", "Representations": "Represent.", "Operating": "Oper.",
             "Implementation": "Implement.", "Psychology": "Psychol.", "Mathematics": "Math.", "Education": "Educ.",
             "Educational": "Educ.", "Research": "Res.", "Meeting": "Meet.", "Physics": "Phys.", "Chemistry": "Chem."}

DOI_PREFIXES = _w("1016|1038|1093|1111|1177|1080|1007|1002|1103|1109|1145|1371|3389|1126|1136|1021|1063|1073|"
                  "1086|1037|1017|1057|1155|1186|1098|1146|1162|1515|1214|1090")
WEB_SECTIONS = _w("news|publications|reports|topics|data|blog|resources|health-topics|articles|en/publications|"
                  "research|insights|fact-sheets|docs|stories")
NEWS_SECTIONS = _w("science|world|business|health|technology|education|culture|politics|environment|opinion")

MONTHS_EN = _w("January|February|March|April|May|June|July|August|September|October|November|December")
MONTHS_EN_DOT = _w("Jan.|Feb.|Mar.|Apr.|May|Jun.|Jul.|Aug.|Sep.|Oct.|Nov.|Dec.")
MONTHS_EN_3 = _w("Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec")
MONTHS_DE = _w("Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember")
MONTHS_FR = _w("janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre")

# ---------------------------------------------------------------- Spanish and Italian references
ES_TOPICS = _w("""la movilidad social|la desigualdad educativa|la inmigración|el trabajo rural|la ciudad|
    la memoria histórica|las políticas públicas|la salud mental|la novela realista|la poesía barroca|
    la lengua oral|la educación superior|la transición democrática|las élites locales|el sindicalismo|
    la prensa regional|la economía social|la familia|la juventud|las migraciones|la lectura|el teatro|
    la reforma agraria|la identidad nacional|el franquismo|la independencia""")
ES_FRAMES = _w("""{A} en España|{A} en el siglo XIX|{A} en América Latina|{A} y {B}|Repensar {A}|
    Una historia de {A}|{A} durante el franquismo|{A} en México|Nuevas perspectivas sobre {A}|¿Qué es {A}?""")
ES_SUBS = _w("""un estudio de caso|una aproximación comparada|balance y perspectivas|fuentes y métodos|
    el caso de Andalucía|el caso argentino|entre continuidad y ruptura|un análisis cuantitativo""")
ES_JOURNALS = _w("""Revista Española de Investigaciones Sociológicas|Revista de Occidente|Hispania|Historia Social|
    Revista de Educación|Papers. Revista de Sociologia|Revista Internacional de Sociología|Ayer|
    Revista de Filología Española|Nueva Revista de Filología Hispánica|Revista Mexicana de Sociología|
    Gaceta Sanitaria|Medicina Clínica|Revista de Economía Aplicada""")
ES_PUBLISHERS: list[tuple[str, str]] = [
    ("Alianza Editorial", "Madrid"), ("Cátedra", "Madrid"), ("Crítica", "Barcelona"), ("Siglo XXI", "Madrid"),
    ("Siglo XXI Editores", "México"), ("Fondo de Cultura Económica", "México"), ("Anagrama", "Barcelona"),
    ("Ariel", "Barcelona"), ("Tecnos", "Madrid"), ("Paidós", "Buenos Aires"), ("CSIC", "Madrid"),
    ("Marcial Pons", "Madrid"), ("Gredos", "Madrid"), ("Síntesis", "Madrid")]
IT_TOPICS = _w("""la mobilità sociale|le disuguaglianze scolastiche|l'immigrazione|il lavoro operaio|la città|
    la memoria collettiva|le politiche pubbliche|la salute mentale|il romanzo storico|la poesia lirica|
    la lingua parlata|l'università|il Risorgimento|le élite locali|il sindacalismo|la stampa locale|
    l'economia sociale|la famiglia|i giovani|le migrazioni|la lettura|il teatro|il Mezzogiorno|il fascismo""")
IT_FRAMES = _w("""{A} in Italia|{A} nel Novecento|{A} nell'Ottocento|{A} e {B}|Ripensare {A}|Per una storia di {A}|
    {A} nel Mezzogiorno|{A} tra le due guerre|Nuove prospettive su {A}|Che cos'è {A}?""")
IT_SUBS = _w("""un'indagine empirica|un approccio comparato|bilancio e prospettive|fonti e metodi|il caso milanese|
    il caso napoletano|tra continuità e rottura|un'analisi quantitativa|problemi e prospettive""")
IT_JOURNALS = _w("""Rassegna Italiana di Sociologia|Quaderni storici|Rivista storica italiana|Studi storici|
    Il Mulino|Belfagor|Lingua e stile|Stato e mercato|Polis|Scuola democratica|Passato e presente|
    Giornale storico della letteratura italiana|Rivista di storia economica|Meridiana""")
IT_PUBLISHERS: list[tuple[str, str]] = [
    ("Il Mulino", "Bologna"), ("Einaudi", "Torino"), ("Laterza", "Roma-Bari"), ("Feltrinelli", "Milano"),
    ("Carocci", "Roma"), ("FrancoAngeli", "Milano"), ("Donzelli", "Roma"), ("Mondadori", "Milano"),
    ("Bollati Boringhieri", "Torino"), ("Olschki", "Firenze"), ("Viella", "Roma"), ("Le Monnier", "Firenze")]
ES_UNIVERSITIES = _w("""Universidad Complutense de Madrid|Universitat de Barcelona|Universidad de Salamanca|
    Universidad Nacional Autónoma de México|Universidad de Buenos Aires|Universidad de Sevilla|El Colegio de México""")
IT_UNIVERSITIES = _w("""Università di Bologna|Sapienza Università di Roma|Università degli Studi di Milano|
    Università di Padova|Scuola Normale Superiore|Università di Napoli Federico II|Università di Torino""")
MONTHS_ES = _w("enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre")
MONTHS_IT = _w("gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre")

# ---------------------------------------------------------------- remarks printed after a reference
# Subjects or remarks in parentheses after a book (note), not series (collection_title).
BOOK_REMARKS = _w("""(in German).|(in French).|[in Spanish].|(in Italian).|(reprint).|(Reprint).|(repr.).|
    (Nachdruck).|(réimpr.).|(reimpresión).|(rist.).|(abridged ed.).|(facsimile).|(out of print).|(Psychologie).|
    (Sociologie).|(Histoire).|(Linguistique).|(Soziologie).|(Pädagogik).|(Geschichte).|(Psychology).""")
# Marks printed before or after a reference in a list (footnote marks, "key reference" stars).
MARKS = _w("*|†|*†|‡|**|§|††|(*)|[*]")
