"""The template writer's text in the channel languages other than English: per language, the topic
labels, a few true facts per topic (with the words to emphasise), the hook openers and titles, the
countdown's "Number n" and the closing lines.

Facts are marked with *asterisks* around the words the keyword_colour captions colour; the marks are
removed from the narration. English lives in template.py.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

LOCALISED: MappingProxyType[str, dict[str, Any]] = MappingProxyType(
    {
        "es": {
            "labels": {
                "space": "el espacio",
                "ocean": "el océano",
                "ancient_history": "la historia antigua",
                "kitchen_science": "la ciencia en la cocina",
                "animals": "los animales",
            },
            "facts": {
                "space": [
                    "Un día en *Venus* dura más que todo su año.",
                    "La luz del *Sol* tarda unos ocho minutos en llegar a la Tierra.",
                    "En el *Sol* cabrían un millón de planetas como la Tierra.",
                    "Las huellas en la *Luna* durarán millones de años, porque allí no hay viento.",
                    "La gran mancha roja de *Júpiter* es una tormenta más ancha que la Tierra.",
                    "*Saturno* es tan ligero que flotaría en una bañera gigante.",
                ],
                "ocean": [
                    "Los *pulpos* tienen tres corazones y sangre azul.",
                    "El corazón de la *ballena* azul es del tamaño de un coche pequeño.",
                    "La mitad del *oxígeno* que respiramos viene de plantas diminutas del océano.",
                    "Las *nutrias* marinas se dan la mano mientras duermen.",
                    "El punto más profundo del océano es más hondo que alto es el *Everest*.",
                    "Más del ochenta por ciento del océano no tiene un *mapa* detallado.",
                ],
                "ancient_history": [
                    "*Cleopatra* vivió más cerca de la llegada a la Luna que de la construcción de la Gran Pirámide.",
                    "Los *romanos* hacían hormigón con ceniza volcánica que sigue en pie hoy.",
                    "La *miel* de las tumbas egipcias todavía se puede comer.",
                    "Los primeros *Juegos* Olímpicos tenían una sola prueba: una carrera corta.",
                    "Los *vikingos* usaban una piedra de sol para orientarse con el cielo nublado.",
                    "La *Gran* Muralla se construyó durante casi dos mil años.",
                ],
                "kitchen_science": [
                    "El *pan* sube porque la levadura suelta dióxido de carbono.",
                    "Las *palomitas* explotan cuando el agua de cada grano se convierte en vapor.",
                    "La *cebolla* nos hace llorar con un gas que se vuelve ácido en los ojos.",
                    "Una pizca de *sal* hace que el café sepa menos amargo.",
                    "El *bicarbonato* y el vinagre burbujean porque forman dióxido de carbono.",
                    "El *microondas* calienta la comida haciendo girar las moléculas de agua.",
                ],
                "animals": [
                    "Las *vacas* tienen mejores amigas y se estresan cuando están separadas.",
                    "Los *cuervos* recuerdan caras humanas durante años.",
                    "Un *caracol* puede dormir tres años seguidos.",
                    "Las *abejas* bailan para decirse dónde están las flores.",
                    "Los *pingüinos* regalan una piedra a su pareja.",
                    "Los *elefantes* se reconocen a sí mismos en un espejo.",
                ],
            },
            "hooks": {
                "question": (("¿Sabías esto sobre {label}?",), ("Lo que nadie te cuenta sobre {label}",)),
                "shocking_fact": (
                    ("Este dato sobre {label} parece falso, pero es verdad.",),
                    ("El dato sobre {label} que parece falso",),
                ),
                "story": (
                    ("Imagina una noche tranquila: {label} está a punto de sorprenderte.",),
                    ("Una pequeña historia sobre {label}",),
                ),
                "countdown": (
                    ("Aquí van {count} datos sobre {label}, y el último es el mejor.",),
                    ("{count} datos sobre {label}",),
                ),
            },
            "number": "Número {n}.",
            "closers": ("Síguenos para más.", "¿Cuál te sorprendió más?"),
        },
        "pt": {
            "labels": {
                "space": "o espaço",
                "ocean": "o oceano",
                "ancient_history": "a história antiga",
                "kitchen_science": "a ciência da cozinha",
                "animals": "os animais",
            },
            "facts": {
                "space": [
                    "Um dia em *Vênus* dura mais do que o seu ano inteiro.",
                    "A luz do *Sol* leva cerca de oito minutos para chegar até nós.",
                    "Caberiam um milhão de Terras dentro do *Sol*.",
                    "As pegadas na *Lua* vão durar milhões de anos, porque lá não há vento.",
                ],
                "ocean": [
                    "Os *polvos* têm três corações e sangue azul.",
                    "O coração da *baleia* azul é do tamanho de um carro pequeno.",
                    "Metade do *oxigênio* que respiramos vem de plantas minúsculas do oceano.",
                    "As *lontras* marinhas dão as mãos enquanto dormem.",
                ],
                "ancient_history": [
                    "Os *romanos* faziam concreto com cinza vulcânica que ainda está de pé.",
                    "O *mel* dos túmulos egípcios ainda pode ser comido.",
                    "Os primeiros *Jogos* Olímpicos tinham uma única prova: uma corrida curta.",
                    "Os *vikings* usavam uma pedra do sol para achar o sol em dias nublados.",
                ],
                "kitchen_science": [
                    "O *pão* cresce porque o fermento solta gás carbônico.",
                    "A *pipoca* estoura quando a água de cada grão vira vapor.",
                    "Uma pitada de *sal* deixa o café menos amargo.",
                    "O *bicarbonato* e o vinagre fazem bolhas de gás carbônico.",
                ],
                "animals": [
                    "As *vacas* têm melhores amigas e ficam estressadas quando se separam.",
                    "Os *corvos* lembram rostos humanos por anos.",
                    "Um *caracol* pode dormir por três anos.",
                    "As *abelhas* dançam para mostrar onde estão as flores.",
                ],
            },
            "hooks": {
                "question": (("Você sabia disso sobre {label}?",), ("O que ninguém conta sobre {label}",)),
                "shocking_fact": (
                    ("Este fato sobre {label} parece falso, mas é verdade.",),
                    ("O fato sobre {label} que parece falso",),
                ),
                "story": (
                    ("Imagine uma noite calma: {label} vai te surpreender.",),
                    ("Uma pequena história sobre {label}",),
                ),
                "countdown": (
                    ("Aqui estão {count} fatos sobre {label}, e o último é o melhor.",),
                    ("{count} fatos sobre {label}",),
                ),
            },
            "number": "Número {n}.",
            "closers": ("Siga para mais.", "Qual deles te surpreendeu mais?"),
        },
        "de": {
            "labels": {
                "space": "den Weltraum",
                "ocean": "den Ozean",
                "ancient_history": "die Antike",
                "kitchen_science": "Küchenwissenschaft",
                "animals": "Tiere",
            },
            "facts": {
                "space": [
                    "Ein Tag auf der *Venus* dauert länger als ihr ganzes Jahr.",
                    "Das Licht der *Sonne* braucht etwa acht Minuten bis zur Erde.",
                    "In die *Sonne* würden eine Million Erden passen.",
                    "Die Fußspuren auf dem *Mond* bleiben Millionen Jahre, weil dort kein Wind weht.",
                ],
                "ocean": [
                    "*Kraken* haben drei Herzen und blaues Blut.",
                    "Das Herz des *Blauwals* ist so groß wie ein kleines Auto.",
                    "Die Hälfte unseres *Sauerstoffs* stammt von winzigen Meerespflanzen.",
                    "*Seeotter* halten sich beim Schlafen an den Händen.",
                ],
                "ancient_history": [
                    "Die *Römer* mischten Vulkanasche in Beton, der bis heute hält.",
                    "*Honig* aus ägyptischen Gräbern ist immer noch essbar.",
                    "Die ersten *Olympischen* Spiele hatten nur einen Wettkampf: einen kurzen Lauf.",
                    "*Wikinger* fanden die Sonne bei Wolken mit einem Sonnenstein.",
                ],
                "kitchen_science": [
                    "*Brot* geht auf, weil die Hefe Kohlendioxid ausatmet.",
                    "*Popcorn* platzt, wenn das Wasser im Korn zu Dampf wird.",
                    "Eine Prise *Salz* macht Kaffee weniger bitter.",
                    "*Natron* und Essig sprudeln, weil sie Kohlendioxid bilden.",
                ],
                "animals": [
                    "*Kühe* haben beste Freundinnen und sind gestresst, wenn sie getrennt sind.",
                    "*Krähen* merken sich menschliche Gesichter jahrelang.",
                    "Eine *Schnecke* kann drei Jahre lang schlafen.",
                    "*Bienen* tanzen, um einander zu zeigen, wo die Blumen sind.",
                ],
            },
            "hooks": {
                "question": (("Wusstest du das über {label}?",), ("Was dir niemand über {label} erzählt",)),
                "shocking_fact": (
                    ("Diese Tatsache über {label} klingt falsch, ist aber wahr.",),
                    ("Der Fakt über {label}, der falsch klingt",),
                ),
                "story": (
                    ("Stell dir eine ruhige Nacht vor: {label} wird dich überraschen.",),
                    ("Eine kleine Geschichte über {label}",),
                ),
                "countdown": (
                    ("Hier sind {count} Fakten über {label}, der letzte ist der beste.",),
                    ("{count} Fakten über {label}",),
                ),
            },
            "number": "Nummer {n}.",
            "closers": ("Folge für mehr.", "Welcher Fakt hat dich am meisten überrascht?"),
        },
        "fr": {
            "labels": {
                "space": "l'espace",
                "ocean": "l'océan",
                "ancient_history": "l'histoire ancienne",
                "kitchen_science": "la science en cuisine",
                "animals": "les animaux",
            },
            "facts": {
                "space": [
                    "Une journée sur *Vénus* dure plus longtemps que toute son année.",
                    "La lumière du *Soleil* met environ huit minutes à nous arriver.",
                    "Un million de Terres tiendraient dans le *Soleil*.",
                    "Les traces de pas sur la *Lune* resteront des millions d'années, car il n'y a pas de vent.",
                ],
                "ocean": [
                    "Les *pieuvres* ont trois cœurs et le sang bleu.",
                    "Le cœur de la *baleine* bleue a la taille d'une petite voiture.",
                    "La moitié de l'*oxygène* que nous respirons vient de minuscules plantes marines.",
                    "Les *loutres* de mer se tiennent la main en dormant.",
                ],
                "ancient_history": [
                    "Les *Romains* mettaient de la cendre volcanique dans un béton qui tient encore.",
                    "Le *miel* des tombes égyptiennes est encore comestible.",
                    "Les premiers *Jeux* olympiques n'avaient qu'une épreuve : une course courte.",
                    "Les *Vikings* trouvaient le soleil par temps couvert grâce à une pierre de soleil.",
                ],
                "kitchen_science": [
                    "Le *pain* gonfle parce que la levure rejette du gaz carbonique.",
                    "Le *pop-corn* éclate quand l'eau de chaque grain se change en vapeur.",
                    "Une pincée de *sel* rend le café moins amer.",
                    "Le *bicarbonate* et le vinaigre pétillent parce qu'ils forment du gaz carbonique.",
                ],
                "animals": [
                    "Les *vaches* ont des meilleures amies et stressent quand on les sépare.",
                    "Les *corbeaux* se souviennent des visages humains pendant des années.",
                    "Un *escargot* peut dormir trois ans.",
                    "Les *abeilles* dansent pour indiquer où sont les fleurs.",
                ],
            },
            "hooks": {
                "question": (("Tu savais ça sur {label} ?",), ("Ce que personne ne dit sur {label}",)),
                "shocking_fact": (
                    ("Ce fait sur {label} semble faux, mais il est vrai.",),
                    ("Le fait sur {label} qui semble faux",),
                ),
                "story": (
                    ("Imagine une nuit calme : {label} va te surprendre.",),
                    ("Une petite histoire sur {label}",),
                ),
                "countdown": (
                    ("Voici {count} faits sur {label}, et le dernier est le meilleur.",),
                    ("{count} faits sur {label}",),
                ),
            },
            "number": "Numéro {n}.",
            "closers": ("Abonne-toi pour la suite.", "Lequel t'a le plus surpris ?"),
        },
        "hi": {
            "labels": {
                "space": "अंतरिक्ष",
                "ocean": "महासागर",
                "ancient_history": "प्राचीन इतिहास",
                "kitchen_science": "रसोई का विज्ञान",
                "animals": "जानवरों",
            },
            "facts": {
                "space": [
                    "*शुक्र* ग्रह पर एक दिन उसके पूरे साल से लंबा होता है।",
                    "*सूरज* की रोशनी को धरती तक आने में लगभग आठ मिनट लगते हैं।",
                    "*सूरज* में दस लाख धरतियाँ समा सकती हैं।",
                    "*चाँद* पर पैरों के निशान लाखों साल रहेंगे, क्योंकि वहाँ हवा नहीं है।",
                ],
                "ocean": [
                    "*ऑक्टोपस* के तीन दिल होते हैं और उसका खून नीला होता है।",
                    "नीली *व्हेल* का दिल एक छोटी कार जितना बड़ा होता है।",
                    "हमारी आधी *ऑक्सीजन* समुद्र के छोटे पौधों से आती है।",
                    "समुद्री *ऊदबिलाव* सोते समय एक दूसरे का हाथ पकड़ते हैं।",
                ],
                "ancient_history": [
                    "*रोमन* लोग ज्वालामुखी की राख से कंक्रीट बनाते थे जो आज भी खड़ा है।",
                    "मिस्र की कब्रों में मिला *शहद* आज भी खाया जा सकता है।",
                    "पहले *ओलंपिक* खेलों में सिर्फ़ एक दौड़ होती थी।",
                    "*वाइकिंग* बादलों में सूरज ढूँढने के लिए एक पत्थर इस्तेमाल करते थे।",
                ],
                "kitchen_science": [
                    "*ब्रेड* इसलिए फूलती है क्योंकि खमीर कार्बन डाइऑक्साइड छोड़ता है।",
                    "*पॉपकॉर्न* तब फूटता है जब दाने का पानी भाप बन जाता है।",
                    "चुटकी भर *नमक* कॉफ़ी की कड़वाहट कम करता है।",
                    "*प्याज़* काटते समय एक गैस आँखों में हल्का अम्ल बनाती है।",
                ],
                "animals": [
                    "*गायों* की भी सबसे अच्छी सहेलियाँ होती हैं।",
                    "*कौवे* इंसानों के चेहरे सालों तक याद रखते हैं।",
                    "एक *घोंघा* तीन साल तक सो सकता है।",
                    "*मधुमक्खियाँ* नाचकर बताती हैं कि फूल कहाँ हैं।",
                ],
            },
            "hooks": {
                "question": (("क्या आप {label} के बारे में यह जानते थे?",), ("{label} के बारे में वह बात जो कोई नहीं बताता",)),
                "shocking_fact": (
                    ("{label} के बारे में यह बात झूठ लगती है, पर सच है।",),
                    ("{label} का वह सच जो झूठ लगता है",),
                ),
                "story": (("एक शांत रात की कल्पना कीजिए: {label} आपको हैरान करने वाला है।",), ("{label} की एक छोटी कहानी",)),
                "countdown": (("{label} के बारे में {count} बातें, और आख़िरी सबसे अच्छी है।",), ("{label} के {count} तथ्य",)),
            },
            "number": "नंबर {n}।",
            "closers": ("और जानने के लिए फ़ॉलो करें।", "आपको सबसे ज़्यादा किसने चौंकाया?"),
        },
        "ja": {
            "labels": {
                "space": "宇宙",
                "ocean": "海",
                "ancient_history": "古代の歴史",
                "kitchen_science": "台所の科学",
                "animals": "動物",
            },
            "facts": {
                "space": [
                    "*金星*の一日は、金星の一年よりも長いです。",
                    "*太陽*の光が地球に届くまで、約八分かかります。",
                    "*太陽*の中には、地球が百万個も入ります。",
                    "*月*の足あとは、風がないので何百万年も残ります。",
                ],
                "ocean": [
                    "*タコ*には心臓が三つあり、血は青いです。",
                    "シロナガス*クジラ*の心臓は、小さな車ほどの大きさです。",
                    "私たちが吸う*酸素*の半分は、海の小さな植物から来ています。",
                    "*ラッコ*は、眠るときに手をつなぎます。",
                ],
                "ancient_history": [
                    "古代*ローマ*のコンクリートは、火山灰のおかげで今も残っています。",
                    "エジプトの墓で見つかった*はちみつ*は、今でも食べられます。",
                    "最初の*オリンピック*には、短い競走が一つだけでした。",
                    "*バイキング*は、曇りの日に太陽の石で方角を知りました。",
                ],
                "kitchen_science": [
                    "*パン*がふくらむのは、酵母が二酸化炭素を出すからです。",
                    "*ポップコーン*は、粒の中の水が湯気になってはじけます。",
                    "ひとつまみの*塩*で、コーヒーの苦みがやわらぎます。",
                    "*玉ねぎ*を切ると、目にしみるガスが出ます。",
                ],
                "animals": [
                    "*牛*には親友がいて、離れるとストレスを感じます。",
                    "*カラス*は、人の顔を何年も覚えています。",
                    "*カタツムリ*は、三年も眠ることがあります。",
                    "*ミツバチ*は、ダンスで花の場所を伝えます。",
                ],
            },
            "hooks": {
                "question": (("{label}について、これを知っていましたか？",), ("誰も教えてくれない{label}の話",)),
                "shocking_fact": (("{label}のこの話、うそみたいですが本当です。",), ("うそみたいな{label}の事実",)),
                "story": (("静かな夜を想像してください。{label}があなたを驚かせます。",), ("{label}の小さな物語",)),
                "countdown": (("{label}の事実を{count}つ、最後が一番です。",), ("{label}の事実{count}選",)),
            },
            "number": "{n}番目。",
            "closers": ("フォローしてね。", "どれが一番驚きましたか？"),
        },
    }
)
