import sys; sys.path.insert(0,'/tmp/exp')
from common import *
from sklearn.linear_model import LogisticRegression
from sklearn.feature_extraction.text import TfidfVectorizer
from scipy.sparse import hstack, csr_matrix
d=json.load(open('/work/main/server/data/intents.json'))['intents']
X=[];Y=[]
for k,v in d.items():
    for t in v: X.append(t);Y.append(k)
args=sys.argv[1:]
for f in args:
    for r in load(f):
        ints=r['intents'] or ['none']
        for i in ints: X.append(r['text']); Y.append(i)
extend(X)
XE=emb(X); Y=np.array(Y)
sets={s:load(FIX+s+'.jsonl') for s in ['dev','test','test2']}
tf=TfidfVectorizer(ngram_range=(1,2),sublinear_tf=True).fit(X)
tfc=TfidfVectorizer(analyzer='char_wb',ngram_range=(2,5),min_df=2,sublinear_tf=True).fit(X)
feats={'emb':lambda T,EE:csr_matrix(EE),
 'emb+w+c':lambda T,EE:hstack([csr_matrix(EE),tf.transform(T),tfc.transform(T)]).tocsr(),
 'emb+w':lambda T,EE:hstack([csr_matrix(EE),tf.transform(T)]).tocsr()}
for fn,feat in feats.items():
 F=feat(X,XE)
 for C in [1,3,10,30]:
  for cw in [None,'balanced']:
    clf=LogisticRegression(C=C,max_iter=5000,class_weight=cw).fit(F,Y)
    cls=list(clf.classes_); esc=[cls.index(i) for i in ['human_request','complaint','legal_threat','urgency','cancel_refund']]
    out=[]
    for s,rows in sets.items():
        T=[r['text'] for r in rows]; P=clf.predict_proba(feat(T,emb(T)))
        sc=P[:,esc].sum(1)
        if s=='dev':
            best=max((explicit_f1(rows,sc>=th)[0],th) for th in np.arange(0.3,0.95,0.05)); th=best[1]; out.append('dev %.3f@%.2f'%best)
        else: out.append('%s %.3f'%(s,explicit_f1(rows,sc>=th)[0]))
    print(fn,'C',C,cw,' '.join(out),flush=True)
