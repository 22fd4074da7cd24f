import sys; sys.path.insert(0,'/tmp/exp')
exec(open('/tmp/exp/cv.py').read().split('res=[]')[0])
for C in [3,10]:
    train=EX+[p for k,rs in W.items() if k!='dev' for p in pairs(rs)]
    f=fit(train,'ewc',C,None)
    sd=f([r['text'] for r in W['dev']]); dv=[explicit_f1(W['dev'],sd>=th)[0] for th in THS]; th=THS[int(np.argmax(dv))]
    print(C,'dev %.3f@%.2f'%(max(dv),th),' '.join('%s %.3f P %.3f R %.3f'%((s,)+explicit_f1(rs,f([r['text'] for r in rs])>=th)) for s,rs in HELD.items()))
